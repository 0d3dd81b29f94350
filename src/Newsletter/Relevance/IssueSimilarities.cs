using System.Collections.Concurrent;

namespace Newsletter.Relevance;

/// <summary>
/// One issue's papers seen through embeddings. Built once per issue; for each interests line and each voted paper
/// it computes once how similar every paper of the issue is to it and caches that row for every later reader, so a
/// reader with 25 votes costs look-ups rather than dot products. Thread-safe.
/// </summary>
public sealed class IssueSimilarities
{
    private readonly long[] _paperIds;
    private readonly Embedding[] _vectors;
    private readonly Dictionary<long, int> _positions;
    private readonly ConcurrentDictionary<string, double[]?> _interestRows = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, double[]> _voteRows = new();

    public IssueSimilarities(IReadOnlyList<(long PaperId, Embedding Vector)> papers)
    {
        ArgumentNullException.ThrowIfNull(papers);
        _paperIds = papers.Select(p => p.PaperId).ToArray();
        _vectors = papers.Select(p => p.Vector).ToArray();
        _positions = new Dictionary<long, int>(_paperIds.Length);
        for (var i = 0; i < _paperIds.Length; i++)
        {
            _positions[_paperIds[i]] = i;
        }
    }

    public int PaperCount => _paperIds.Length;

    public IReadOnlyList<long> PaperIds => _paperIds;

    /// <summary>Position of a paper in the issue, or -1.</summary>
    public int PositionOf(long paperId) => _positions.TryGetValue(paperId, out var i) ? i : -1;

    /// <summary>How close each paper of the issue is to the interests line, standardised within the issue (a z-score:
    /// standard deviations above the issue's typical paper). Shared by every reader with the same line; read only.</summary>
    internal double[]? InterestRow(ReaderProfile profile) =>
        profile.InterestsVector is null ? null : _interestRows.GetOrAdd(profile.Interests, static (_, arg) => Standardize(arg.Self.Cosines(arg.Vector)), (Self: this, Vector: profile.InterestsVector));

    /// <summary>The cosine of each paper of the issue with a voted paper. Shared by every reader who voted on it; read only.</summary>
    internal double[] VoteRow(ProfileVote vote) =>
        _voteRows.GetOrAdd(vote.PaperId, static (_, arg) => arg.Self.Cosines(arg.Vector), (Self: this, Vector: vote.Paper));

    private double[] Cosines(Embedding target)
    {
        var row = new double[_vectors.Length];
        for (var i = 0; i < row.Length; i++)
        {
            row[i] = _vectors[i].Similarity(target);
        }

        return row;
    }

    /// <summary>In place: (x − mean) / standard deviation; all zero when the values cannot tell papers apart.</summary>
    internal static double[] Standardize(double[] values)
    {
        if (values.Length == 0)
        {
            return values;
        }

        var mean = values.Average();
        var variance = values.Sum(x => (x - mean) * (x - mean)) / values.Length;
        var sd = Math.Sqrt(variance);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = sd < 1e-9 ? 0 : (values[i] - mean) / sd;
        }

        return values;
    }
}
