namespace Newsletter.Relevance.Evaluation;

/// <summary>
/// Exploration: similarities standardised within the day's listing (z-scores), so the interests line and the voted
/// papers speak on one scale. pos = max(z of the line, z of the nearest liked paper); neg = z of the nearest
/// disliked paper. refdays=N: the z-scores' mean and spread from the last N listings, the day's included (1: the day
/// alone); reffor: which of them (q line, l liked, d disliked) take that reference (default all).
/// </summary>
public sealed class KnnExperiment(Knobs knobs, IPaperVectors cache, IReadOnlyList<SetPaper> allPapers) : IRelevanceMethod
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
    private readonly string _likedAs = knobs.Text("liked", "max");
    private readonly double _lr = knobs.Number("lr", 0);
    private readonly double _unlabeled = knobs.Number("u", 0.1);
    private readonly int _iterations = (int)knobs.Number("it", 300);
    private readonly int _referenceDays = (int)knobs.Number("refdays", 1);
    private readonly string _referenceFor = knobs.Text("reffor", "qld");

    public string Name => knobs.Spec;

    public DigestOutcome Decide(DayContext context)
    {
        var q = cache.Interests(context.Query);
        var liked = context.Votes.Where(v => v.More).Select(v => cache.Paper(allPapers[v.PaperId])).ToArray();
        var disliked = context.Votes.Where(v => !v.More).Select(v => cache.Paper(allPapers[v.PaperId])).ToArray();
        var listing = context.Listing;
        var vectors = listing.Select(cache.Paper).ToArray();
        var history = _referenceDays == 1 ? vectors
            : allPapers.Where(p => p.Day <= context.Day && p.Day > context.Day - _referenceDays).Select(cache.Paper).ToArray();
        double[]? zq = q is null ? null : Reference(v => v.Similarity(q), 'q');
        var likedCentroid = liked.Length == 0 ? null : Centroid(liked);
        double[]? zl = liked.Length == 0 ? null : Reference(v => _likedAs switch
        {
            "mean" => v.Similarity(likedCentroid!),
            "top3" => liked.Select(l => v.Similarity(l)).OrderDescending().Take(3).Average(),
            _ => liked.Max(l => v.Similarity(l)),
        }, 'l');
        double[]? zd = disliked.Length == 0 ? null : Reference(v => disliked.Max(d => v.Similarity(d)), 'd');

        // Today's values as z-scores against the reference papers' (today's, or every listing so far).
        double[] Reference(Func<Embedding, double> similarity, char component)
        {
            var reference = (_referenceFor.Contains(component, StringComparison.Ordinal) ? history : vectors).Select(similarity).ToArray();
            var mean = reference.Average();
            var sd = Math.Sqrt(reference.Select(x => (x - mean) * (x - mean)).Average());
            return vectors.Select(v => sd == 0 ? 0 : (similarity(v) - mean) / sd).ToArray();
        }
        if (_lr > 0 && context.Votes.Count > 0)
        {
            // arxiv-sanity style: a linear model per reader, liked papers and the line against disliked and unvoted ones.
            var voted = context.Votes.Select(v => v.PaperId).ToHashSet();
            var examples = new List<(Embedding X, double Y, double W)>();
            if (q is not null)
            {
                examples.Add((q, 1, 1));
            }

            examples.AddRange(liked.Select(l => (l, 1.0, 1.0)));
            examples.AddRange(disliked.Select(d => (d, 0.0, 1.0)));
            var unlabeled = allPapers.Where(p => p.Day <= context.Day && !voted.Contains(p.Id)).ToArray();
            examples.AddRange(unlabeled.Select(p => (cache.Paper(p), 0.0, _unlabeled)));
            var (w, b) = Logistic(examples, _lr, _iterations);
            zl = Standardize(vectors.Select(v => Embedding.Dot(w, v.Values) + b).ToArray());
            zq = null;
        }

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

    private static (float[] W, double B) Logistic(List<(Embedding X, double Y, double W)> examples, double l2, int iterations)
    {
        var dims = examples[0].X.Dimensions;
        var w = new float[dims];
        double b = 0;
        var total = examples.Sum(e => e.W);
        var grad = new double[dims];
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            Array.Clear(grad);
            double gb = 0;
            foreach (var (x, y, weight) in examples)
            {
                var p = 1 / (1 + Math.Exp(-(Embedding.Dot(w, x.Values) + b)));
                var g = weight * (p - y) / total;
                var xs = x.Values;
                for (var i = 0; i < dims; i++)
                {
                    grad[i] += g * xs[i];
                }

                gb += g;
            }

            for (var i = 0; i < dims; i++)
            {
                w[i] -= (float)(2 * (grad[i] + (l2 * w[i])));
            }

            b -= 2 * gb;
        }

        return (w, b);
    }

    private static Embedding Centroid(Embedding[] vectors)
    {
        var sum = new float[vectors[0].Dimensions];
        foreach (var v in vectors)
        {
            for (var i = 0; i < sum.Length; i++)
            {
                sum[i] += v.Values[i];
            }
        }

        return Embedding.Normalize(sum);
    }

    private static double[] Standardize(double[] values)
    {
        var mean = values.Average();
        var sd = Math.Sqrt(values.Select(x => (x - mean) * (x - mean)).Average());
        return values.Select(x => sd == 0 ? 0 : (x - mean) / sd).ToArray();
    }
}
