using Newsletter.Relevance;

namespace Newsletter.Tests.Relevance;

public class EmbeddingTests
{
    [Fact]
    public void Normalize_AnyVector_HasUnitLength()
    {
        var e = Embedding.Normalize([3f, 4f]);

        Assert.Equal(1.0, e.Similarity(e), 5);
        Assert.Equal([0.6f, 0.8f], e.Values.ToArray());
    }

    [Fact]
    public void FromBytes_OfToBytes_GivesTheSameVector()
    {
        var e = Embedding.Normalize([0.1f, -0.5f, 2f, 0f]);

        var bytes = e.ToBytes();
        var back = Embedding.FromBytes(bytes);

        Assert.Equal(16, bytes.Length);
        Assert.Equal(e.Values.ToArray(), back.Values.ToArray());
    }

    [Fact]
    public void Similarity_VectorsOfDifferentModels_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => Embedding.Normalize([1f, 0f]).Similarity(Embedding.Normalize([1f, 0f, 0f])));

        Assert.Contains("different models", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromBytes_TruncatedFloat_Throws()
    {
        Assert.Throws<ArgumentException>(() => Embedding.FromBytes(new byte[6]));
    }
}
