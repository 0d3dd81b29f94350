namespace Newsletter.Relevance.Evaluation;

/// <summary>
/// Exploration of embedding profiles (knobs on the command line). Positive centroid: the interests line (weight
/// alpha) plus the liked papers; negative centroid: the disliked papers. pos and neg are cosines to them.
/// </summary>
public sealed class EmbeddingExperiment(Knobs knobs, EmbeddingCache cache, string queryPrefix) : IRelevanceMethod
{
    private readonly double _alpha = knobs.Number("alpha", 1);
    private readonly double _hide = knobs.Number("hide", 0);
    private readonly double _suggestZ = knobs.Number("z", 2);
    private readonly double _suggestAbs = knobs.Number("abs", -1);
    private readonly double _suggestMargin = knobs.Number("sm", 0);
    private readonly double _title = knobs.Number("title", 0.05);
    private readonly double _lambda = knobs.Number("lambda", 1);
    private readonly int _limit = (int)knobs.Number("limit", 5);
    private readonly double _prf = knobs.Number("prf", 0);

    public string Name => knobs.Spec;

    public DigestOutcome Decide(DayContext context)
    {
        var q = cache.Interests(context.Query, queryPrefix);
        var liked = context.Votes.Where(v => v.More).Select(v => cache.Paper(Paper(context, v.PaperId))).ToList();
        var disliked = context.Votes.Where(v => !v.More).Select(v => cache.Paper(Paper(context, v.PaperId))).ToList();
        var dims = cache.Paper(context.Listing[0]).Dimensions;
        var posSum = new float[dims];
        if (q is not null)
        {
            Add(posSum, q, (float)_alpha);
        }

        foreach (var e in liked)
        {
            Add(posSum, e, 1);
        }

        if (_prf > 0 && context.KeywordMatches.Count > 0)
        {
            foreach (var m in context.KeywordMatches)
            {
                Add(posSum, cache.Paper(context.Listing.First(p => p.Id == (int)m.PaperId)), (float)(_prf / context.KeywordMatches.Count));
            }
        }

        var pos = Embedding.Normalize(posSum);
        Embedding? neg = null;
        if (disliked.Count > 0)
        {
            var negSum = new float[dims];
            foreach (var e in disliked)
            {
                Add(negSum, e, 1);
            }

            neg = Embedding.Normalize(negSum);
        }

        double Pos(SetPaper p) => cache.Paper(p).Similarity(pos);
        double Neg(SetPaper p) => neg is null ? 0 : cache.Paper(p).Similarity(neg);
        double Score(SetPaper p) => Pos(p) - (_lambda * Neg(p));

        var matchIds = context.KeywordMatches.Select(m => (int)m.PaperId).ToHashSet();
        var titleHit = context.KeywordMatches.ToDictionary(m => (int)m.PaperId, m => m.Score >= Subscribers.IssueMatcher.TitleWeight);
        var hasVotes = context.Votes.Count > 0;
        var kept = new List<(int Id, double Rank)>();
        var hidden = 0;
        foreach (var id in matchIds)
        {
            var p = context.Listing.First(x => x.Id == id);
            if (hasVotes && neg is not null && Neg(p) - Pos(p) > _hide)
            {
                hidden++;
                continue;
            }

            kept.Add((id, Score(p) + (titleHit[id] ? _title : 0)));
        }

        var others = context.Listing.Where(p => !matchIds.Contains(p.Id)).ToArray();
        var all = context.Listing.Select(Pos).ToArray();
        var mean = all.Average();
        var sd = Math.Sqrt(all.Select(x => (x - mean) * (x - mean)).Average());
        var threshold = _suggestAbs >= 0 ? _suggestAbs : mean + (_suggestZ * sd);
        var suggestions = others
            .Where(p => Pos(p) >= threshold && Pos(p) - Neg(p) > _suggestMargin)
            .OrderByDescending(Score)
            .Take(_limit)
            .Select(p => p.Id)
            .ToArray();
        var shown = kept.OrderByDescending(k => k.Rank).Select(k => k.Id).Concat(suggestions).ToArray();
        return new DigestOutcome(shown, hidden, suggestions.Length);
    }

    private static SetPaper Paper(DayContext context, int id) => AllPapers![id];

    internal static IReadOnlyList<SetPaper>? AllPapers { get; set; }

    private static void Add(float[] sum, Embedding e, float weight)
    {
        var v = e.Values;
        for (var i = 0; i < sum.Length; i++)
        {
            sum[i] += weight * v[i];
        }
    }
}
