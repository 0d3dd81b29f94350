using System.Globalization;

namespace Newsletter.Relevance.Evaluation;

/// <summary>How well the interests line alone separates each reader's relevant papers (exploration aid).</summary>
public static class Diagnostics
{
    private static readonly int[] Ks = [5, 10, 20, 40];
    private static readonly double[] Zs = [1.5, 2.0, 2.5, 3.0];

    public static void Print(JudgementSet set, EmbeddingCache cache, string prefix)
    {
        foreach (var reader in set.Readers)
        {
            var q = cache.Interests(Subscribers.InterestQuery.Parse(reader.Interests), prefix)!;
            var scored = set.Papers.Select(p => (Rel: reader.Relevant.Contains(p.ArxivId), Cos: q.Similarity(cache.Paper(p)),
                Z: Z(set, cache, q, p))).ToArray();
            var pos = scored.Where(s => s.Rel).ToArray();
            var neg = scored.Where(s => !s.Rel).ToArray();
            var auc = pos.Sum(a => neg.Count(b => b.Cos < a.Cos)) / (double)(pos.Length * neg.Length);
            var ordered = scored.OrderByDescending(s => s.Cos).ToArray();
            var line = string.Join(" ", Ks.Select(k => $"P@{k}={ordered.Take(k).Count(s => s.Rel) / (double)k:F2}"));
            var zs = string.Join(" ", Zs.Select(z =>
                $"z>{z}:{scored.Count(s => s.Z > z && s.Rel)}/{scored.Count(s => s.Z > z)}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{cache.Model,-7} {reader.Id,-18} n+={pos.Length,3} AUC={auc:F3} cos+ {pos.Average(s => s.Cos):F3} cos- {neg.Average(s => s.Cos):F3} {line}  {zs}"));
        }
    }

    private static double Z(JudgementSet set, EmbeddingCache cache, Embedding q, SetPaper paper)
    {
        var day = set.Listings[paper.Day].Select(p => q.Similarity(cache.Paper(p))).ToArray();
        var mean = day.Average();
        var sd = Math.Sqrt(day.Select(x => (x - mean) * (x - mean)).Average());
        return (q.Similarity(cache.Paper(paper)) - mean) / sd;
    }
}
