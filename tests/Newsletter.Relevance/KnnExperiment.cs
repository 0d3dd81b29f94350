namespace Newsletter.Relevance.Evaluation;

/// <summary>
/// Exploration: similarities standardised within the day's listing (z-scores), so the interests line and the voted
/// papers speak on one scale. pos = max(z of the line, z of the nearest liked paper); neg = z of the nearest
/// disliked paper.
/// </summary>
public sealed class KnnExperiment(Knobs knobs, EmbeddingCache cache, string queryPrefix, IReadOnlyList<SetPaper> allPapers) : IRelevanceMethod
{
    private readonly double _hideMargin = knobs.Number("hm", 0.5);
    private readonly double _hideFloor = knobs.Number("hf", 1.5);
    private readonly double _suggest = knobs.Number("sz", 2);
    private readonly double _suggestMargin = knobs.Number("sm", 0);
    private readonly double _title = knobs.Number("title", 0.5);
    private readonly double _lambda = knobs.Number("lambda", 1);
    private readonly double _qWeight = knobs.Number("qw", 1);
    private readonly int _limit = (int)knobs.Number("limit", 5);
    private readonly string _combine = knobs.Text("pos", "max");

    public string Name => knobs.Spec;

    public DigestOutcome Decide(DayContext context)
    {
        var q = cache.Interests(context.Query, queryPrefix);
        var liked = context.Votes.Where(v => v.More).Select(v => cache.Paper(allPapers[v.PaperId])).ToArray();
        var disliked = context.Votes.Where(v => !v.More).Select(v => cache.Paper(allPapers[v.PaperId])).ToArray();
        var listing = context.Listing;
        var vectors = listing.Select(cache.Paper).ToArray();
        double[]? zq = q is null ? null : Standardize(vectors.Select(v => v.Similarity(q)).ToArray());
        double[]? zl = liked.Length == 0 ? null : Standardize(vectors.Select(v => liked.Max(l => v.Similarity(l))).ToArray());
        double[]? zd = disliked.Length == 0 ? null : Standardize(vectors.Select(v => disliked.Max(d => v.Similarity(d))).ToArray());
        var pos = new double[listing.Count];
        var neg = new double[listing.Count];
        for (var i = 0; i < listing.Count; i++)
        {
            var a = zq is null ? double.NegativeInfinity : zq[i] * _qWeight;
            var b = zl is null ? double.NegativeInfinity : zl[i];
            pos[i] = _combine switch
            {
                "max" => Math.Max(a, b),
                _ => zl is null ? a : zq is null ? b : (a + b) / 2,
            };
            if (double.IsNegativeInfinity(pos[i]))
            {
                pos[i] = 0;
            }

            neg[i] = zd is null ? double.NegativeInfinity : zd[i];
        }

        double Score(int i) => pos[i] - (double.IsNegativeInfinity(neg[i]) ? 0 : _lambda * Math.Max(0, neg[i]));
        var index = listing.Select((p, i) => (p.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var kept = new List<(int Id, double Rank)>();
        var hidden = 0;
        foreach (var m in context.KeywordMatches)
        {
            var i = index[(int)m.PaperId];
            if (neg[i] > _hideFloor && neg[i] > pos[i] + _hideMargin)
            {
                hidden++;
                continue;
            }

            kept.Add(((int)m.PaperId, Score(i) + (m.Score >= Subscribers.IssueMatcher.TitleWeight ? _title : 0)));
        }

        var matched = context.KeywordMatches.Select(m => (int)m.PaperId).ToHashSet();
        var suggestions = Enumerable.Range(0, listing.Count)
            .Where(i => !matched.Contains(listing[i].Id) && pos[i] >= _suggest && pos[i] > neg[i] + _suggestMargin)
            .OrderByDescending(Score)
            .Take(_limit)
            .Select(i => listing[i].Id)
            .ToArray();
        var shown = kept.OrderByDescending(k => k.Rank).Select(k => k.Id).Concat(suggestions).ToArray();
        return new DigestOutcome(shown, hidden, suggestions.Length);
    }

    private static double[] Standardize(double[] values)
    {
        var mean = values.Average();
        var sd = Math.Sqrt(values.Select(x => (x - mean) * (x - mean)).Average());
        return values.Select(x => sd == 0 ? 0 : (x - mean) / sd).ToArray();
    }
}
