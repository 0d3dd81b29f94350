using Newsletter.Relevance;
using Newsletter.Subscribers;
using SentenceTransformers;

namespace Newsletter.Tests.Relevance;

public class TextEmbedderTests
{
    [Fact]
    public void InterestsText_QuerySyntax_KeepsOnlyThePositiveTermsAsTyped()
    {
        var text = TextEmbedder.InterestsText(InterestQuery.Parse("\"video generation\" GRPO OR RLVR -medical"));

        Assert.Equal("video generation, GRPO, RLVR", text);
    }

    [Fact]
    public void EmbedInterests_OnlyExclusions_ReturnsNullWithoutLoadingTheModel()
    {
        var loads = 0;
        using var embedder = new TextEmbedder(() => { loads++; return new CountingEncoder(); });

        Assert.Null(embedder.EmbedInterests(InterestQuery.Parse("-medical"), TestContext.Current.CancellationToken));
        Assert.Equal(0, loads);
        Assert.False(embedder.IsLoaded);
    }

    [Fact]
    public void EmbedPapers_ManyPapers_LoadsTheModelOnceAndKeepsTheOrder()
    {
        var loads = 0;
        var encoder = new CountingEncoder();
        using var embedder = new TextEmbedder(() => { loads++; return encoder; });
        var papers = Enumerable.Range(1, 20).Select(i => ($"Paper {new string('x', 21 - i)}", (string?)null)).ToArray();

        var vectors = embedder.EmbedPapers(papers, TestContext.Current.CancellationToken);

        Assert.Equal(1, loads);
        Assert.True(embedder.IsLoaded);
        // The fake encodes a text as its length: order must survive the length-sorted batching.
        Assert.Equal(papers.Select(p => p.Item1.Length), vectors.Select(CountingEncoder.LengthOf));
        Assert.All(encoder.BatchSizes, size => Assert.True(size <= TextEmbedder.BatchSize));
    }

    [Fact]
    public void EmbedPapers_RealModel_PutsASpeechPaperNearerASpeechLineThanARobotPaper()
    {
        using var embedder = TextEmbedder.CreateMiniLm();
        var papers = embedder.EmbedPapers(
        [
            ("Streaming Text-to-Speech with Low Latency", "We synthesize natural speech from text in real time."),
            ("Dexterous Robot Manipulation from Demonstrations", "A robot arm learns grasping policies from human videos."),
        ], TestContext.Current.CancellationToken);
        var line = embedder.EmbedInterests(InterestQuery.Parse("speech OR audio"), TestContext.Current.CancellationToken)!;

        Assert.Equal(384, line.Dimensions);
        Assert.True(papers[0].Similarity(line) > papers[1].Similarity(line) + 0.1);
    }

    [Fact]
    public void EmbedPapers_RealModelSeveralAtOnce_SameVectorsAsEachAlone()
    {
        using var embedder = TextEmbedder.CreateMiniLm();
        var ct = TestContext.Current.CancellationToken;
        var papers = Enumerable.Range(1, 9).Select(i => (
            $"Paper {i} on {(i % 3 == 0 ? "speech synthesis" : i % 3 == 1 ? "robot grasping" : "video diffusion")}",
            (string?)string.Join(' ', Enumerable.Repeat($"Sentence {i} of an abstract about method {i * 7}.", i * 6)))).ToArray();

        // Batches run on several threads at once: each paper must still get its own text's vector.
        var together = embedder.EmbedPapers(papers, ct);
        var alone = papers.Select(p => embedder.EmbedPapers([p], ct)[0]).ToArray();

        for (var i = 0; i < papers.Length; i++)
        {
            Assert.True(together[i].Similarity(alone[i]) > 0.9999, $"paper {i + 1}: {together[i].Similarity(alone[i])}");
        }
    }

    /// <summary>Encodes a text as the vector (length, 1): enough to check order and batching without a model.</summary>
    private sealed class CountingEncoder : ISentenceEncoder
    {
        public System.Collections.Concurrent.ConcurrentQueue<int> BatchSizes { get; } = new();

        public static int LengthOf(Embedding e) => (int)Math.Round(e.Values[0] / e.Values[1]);

        public float[][] Encode(string[] sentences, CancellationToken cancellationToken = default)
        {
            BatchSizes.Enqueue(sentences.Length);
            return sentences.Select(s => new[] { (float)s.Length, 1f }).ToArray();
        }

        public EncodedChunk[] ChunkAndEncode(string text, int chunkLength = 500, int chunkOverlap = 100, bool sequentially = true, int maxChunks = int.MaxValue, bool keepResultsOnlyForTags = false, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public TaggedEncodedChunk[] ChunkAndEncodeTagged(string text, Func<string, TaggedChunk> stripTags, int chunkLength = 500, int chunkOverlap = 100, bool sequentially = true, int maxChunks = int.MaxValue, bool keepResultsOnlyForTags = false, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public List<string> ChunkText(string text, char separator = ' ', int chunkLength = 500, int chunkOverlap = 100, int maxChunks = int.MaxValue) =>
            throw new NotSupportedException();
    }
}
