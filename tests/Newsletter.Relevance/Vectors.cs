using Newsletter.Subscribers;

namespace Newsletter.Relevance.Evaluation;

/// <summary>A representation of the set's papers and interests lines as unit vectors (cosine = dot product).</summary>
public interface IPaperVectors
{
    string Name { get; }

    Embedding Paper(SetPaper paper);

    Embedding? Interests(InterestQuery query);
}

/// <summary>A sentence-embedding model's vectors (through the service's <see cref="TextEmbedder"/>).</summary>
public sealed class ModelVectors(EmbeddingCache cache, string queryPrefix) : IPaperVectors
{
    public string Name => cache.Model;

    /// <summary>A query's words (a keyword line's term) as the model reads a line: with its query prefix.</summary>
    public Embedding Query(string text) => cache.Text(queryPrefix + text);

    public Embedding Paper(SetPaper paper) => cache.Paper(paper);

    public Embedding Title(SetPaper paper) => cache.Title(paper);

    public Embedding? Interests(InterestQuery query) => cache.Interests(query, queryPrefix);
}

/// <summary>A paper as its whole text's vector plus <paramref name="weight"/> times its title's (exploration).</summary>
public sealed class TitleWeightedVectors(ModelVectors inner, double weight) : IPaperVectors
{
    private readonly Dictionary<int, Embedding> _papers = [];

    public string Name => $"{inner.Name}+title*{weight}";

    public Embedding Paper(SetPaper paper)
    {
        if (!_papers.TryGetValue(paper.Id, out var e))
        {
            var whole = inner.Paper(paper).Values;
            var title = inner.Title(paper).Values;
            var sum = new float[whole.Length];
            for (var i = 0; i < sum.Length; i++)
            {
                sum[i] = whole[i] + (float)weight * title[i];
            }
            _papers[paper.Id] = e = Embedding.Normalize(sum);
        }
        return e;
    }

    public Embedding? Interests(InterestQuery query) => inner.Interests(query);
}

/// <summary>
/// TF-IDF over the service's own words (<see cref="WordTokenizer"/>: folded, plural-insensitive) found in at least
/// two papers, sublinear term frequency, title words counted twice, idf from the whole set (unsupervised). An interests line is its terms' words.
/// </summary>
public sealed class TfidfVectors : IPaperVectors
{
    private readonly Dictionary<string, int> _vocabulary = new(StringComparer.Ordinal);
    private readonly double[] _idf;
    private readonly Dictionary<int, Embedding> _papers = [];

    public TfidfVectors(JudgementSet set)
    {
        var docs = set.Papers.ToDictionary(p => p.Id, p => Counts(p.Title, 2).Concat(Counts(p.Abstract, 1))
            .GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value)));
        var df = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var word in docs.Values.SelectMany(d => d.Keys))
        {
            df[word] = df.GetValueOrDefault(word) + 1;
        }

        // Words of one paper only tell no two papers apart: they stay out of the vocabulary.
        foreach (var word in df.Where(kv => kv.Value >= 2).Select(kv => kv.Key).Order(StringComparer.Ordinal))
        {
            _vocabulary[word] = _vocabulary.Count;
        }

        _idf = new double[_vocabulary.Count];
        foreach (var (word, id) in _vocabulary)
        {
            _idf[id] = Math.Log((double)set.Papers.Count / df[word]);
        }

        foreach (var (id, counts) in docs)
        {
            _papers[id] = Vector(counts);
        }
    }

    public string Name => "tfidf";

    public Embedding Paper(SetPaper paper) => _papers[paper.Id];

    public Embedding? Interests(InterestQuery query)
    {
        var counts = Counts(string.Join(" ", query.Terms), 1);
        return counts.Count == 0 ? null : Vector(counts);
    }

    private Embedding Vector(Dictionary<string, int> counts)
    {
        var values = new float[_vocabulary.Count];
        foreach (var (word, count) in counts)
        {
            if (_vocabulary.TryGetValue(word, out var id))
            {
                values[id] = (float)((1 + Math.Log(count)) * _idf[id]);
            }
        }

        return Embedding.Normalize(values);
    }

    private static Dictionary<string, int> Counts(string? text, int weight)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var token in WordTokenizer.Tokenize(text))
        {
            counts[token.Folded] = counts.GetValueOrDefault(token.Folded) + weight;
        }

        return counts;
    }
}

/// <summary>Two representations side by side, scaled so that the cosine is share·cos(a) + (1 − share)·cos(b).</summary>
public sealed class BlendedVectors(IPaperVectors a, IPaperVectors b, double share) : IPaperVectors
{
    private readonly Dictionary<int, Embedding> _papers = [];

    public string Name => $"{a.Name}+{b.Name}";

    public Embedding Paper(SetPaper paper) =>
        _papers.TryGetValue(paper.Id, out var e) ? e : _papers[paper.Id] = Join(a.Paper(paper), b.Paper(paper))!;

    public Embedding? Interests(InterestQuery query) => Join(a.Interests(query), b.Interests(query));

    private Embedding? Join(Embedding? x, Embedding? y)
    {
        if (x is null || y is null)
        {
            return x ?? y;
        }

        var wx = (float)Math.Sqrt(share);
        var wy = (float)Math.Sqrt(1 - share);
        return Embedding.Normalize([.. x.Values.ToArray().Select(v => v * wx), .. y.Values.ToArray().Select(v => v * wy)]);
    }
}

/// <summary>
/// Another representation's vectors each moved by a random direction to a cosine of <paramref name="cosine"/> from
/// where they were (the same move for the same text and seed): how far the numbers move when every vector moves as
/// much as a slightly different build of the model moves it (8-bit weights: about 0.995).
/// </summary>
public sealed class JitteredVectors(IPaperVectors inner, double cosine, int seed) : IPaperVectors
{
    public string Name => $"{inner.Name}~{cosine}#{seed}";

    public Embedding Paper(SetPaper paper) => Jitter(inner.Paper(paper), paper.ArxivId);

    public Embedding? Interests(InterestQuery query) => inner.Interests(query) is { } line ? Jitter(line, TextEmbedder.InterestsText(query)) : null;

    private Embedding Jitter(Embedding vector, string text)
    {
        var random = new Random(unchecked(text.Aggregate(seed, (hash, c) => (hash * 31) + c)));
        var noise = new float[vector.Dimensions];
        for (var i = 0; i < noise.Length; i++)
        {
            // Box-Muller: a direction uniform on the sphere.
            noise[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }
        var values = vector.Values;
        var along = System.Numerics.Tensors.TensorPrimitives.Dot(noise, values);
        for (var i = 0; i < noise.Length; i++)
        {
            noise[i] -= along * values[i];
        }
        var length = System.Numerics.Tensors.TensorPrimitives.Norm(noise);
        var sine = Math.Sqrt(1 - cosine * cosine);
        var moved = new float[noise.Length];
        for (var i = 0; i < moved.Length; i++)
        {
            moved[i] = (float)(cosine * values[i] + sine * noise[i] / length);
        }
        return Embedding.Normalize(moved);
    }
}
