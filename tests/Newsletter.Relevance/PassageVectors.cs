using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
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
        Directory.CreateDirectory(cacheFolder);
        var file = Path.Combine(cacheFolder, $"{model.Name}-passages.json");
        var stored = File.Exists(file)
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(file)) ?? []
            : [];
        var split = set.Papers.ToDictionary(p => p.Id, Split);
        var missing = split.Values.SelectMany(s => s).Distinct().Where(t => !stored.ContainsKey(Key(t))).ToArray();
        if (missing.Length > 0)
        {
            using var embedder = model.CreateEmbedder();
            var vectors = embedder.Embed(missing);
            for (var i = 0; i < missing.Length; i++)
            {
                stored[Key(missing[i])] = Convert.ToBase64String(vectors[i].ToBytes());
            }

            File.WriteAllText(file, JsonSerializer.Serialize(stored));
        }

        return new PassageVectors(split.ToDictionary(kv => kv.Key,
            kv => kv.Value.Select(t => Embedding.FromBytes(Convert.FromBase64String(stored[Key(t)]))).ToArray()));
    }

    private static string Key(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
