using System.Text.RegularExpressions;

namespace Newsletter.Relevance.Evaluation;

/// <summary>
/// Exploration: each paper as its passages (the title, then each sentence of the abstract), embedded one by one by
/// the same model, kept in a file per model like <see cref="EmbeddingCache"/>.
/// </summary>
public sealed partial class PassageVectors
{
    private readonly Dictionary<int, Embedding[]> _byPaper;

    private PassageVectors(Dictionary<int, Embedding[]> byPaper) => _byPaper = byPaper;

    public Embedding[] Passages(SetPaper paper) => _byPaper[paper.Id];

    /// <summary>The title, then the abstract's sentences (a stop, question or exclamation mark before a space and a capital).</summary>
    public static string[] Split(SetPaper paper) =>
        [paper.Title, .. SentenceEnd().Split(paper.Abstract ?? "").Select(s => s.Trim()).Where(s => s.Length > 0)];

    [GeneratedRegex(@"(?<=[.!?])\s+(?=[A-Z])")]
    private static partial Regex SentenceEnd();

    public static PassageVectors Load(ModelChoice model, JudgementSet set, string cacheFolder)
    {
        var split = set.Papers.ToDictionary(p => p.Id, Split);
        var vectors = EmbeddingCache.Vectors(model, [.. split.Values.SelectMany(s => s)], Path.Combine(cacheFolder, $"{model.Name}-passages.json"), out _);
        return new PassageVectors(split.ToDictionary(kv => kv.Key, kv => kv.Value.Select(t => vectors[t]).ToArray()));
    }
}
