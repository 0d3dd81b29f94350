using System.Collections.Concurrent;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Newsletter.Relevance;

/// <summary>
/// One issue's papers seen through embeddings: their vectors as one contiguous papers × dimensions matrix. For each
/// interests line and each voted paper it computes once how similar every paper of the issue is to it (one row of
/// dot products) and caches that row for every later reader, so a reader with 25 votes costs look-ups and a few
/// vector maxima rather than dot products. Closeness is standardised against the issue's papers and the reference
/// papers (the listing before it): one day's 30–70 papers are too few to say what is typical, and a day with many papers
/// on a reader's topic would make each stand out less. Thread-safe.
/// </summary>
public sealed class IssueSimilarities
{
    private readonly long[] _paperIds;
    /// <summary>The issue's papers, then the reference papers, one row of <see cref="_dimensions"/> each.</summary>
    private readonly float[] _matrix;
    private readonly int _dimensions;
    private readonly int _width;
    private readonly Dictionary<long, int> _positions;
    private readonly ConcurrentDictionary<string, float[]?> _interestRows = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, VoteRow> _voteRows = new();
    private PreparedVotes _prepared = PreparedVotes.None;

    /// <param name="papers">The issue's papers, in the order rows give them.</param>
    /// <param name="reference">Vectors of other papers (the listing before the issue) that closeness is standardised
    /// against too; never ranked, suggested or shown.</param>
    public IssueSimilarities(IReadOnlyList<(long PaperId, Embedding Vector)> papers, IReadOnlyList<Embedding>? reference = null)
    {
        ArgumentNullException.ThrowIfNull(papers);
        reference ??= [];
        _paperIds = new long[papers.Count];
        _dimensions = papers.Count == 0 ? 0 : papers[0].Vector.Dimensions;
        // Without a paper of the issue there is nothing to rank, so no reference either.
        _width = papers.Count == 0 ? 0 : papers.Count + reference.Count;
        _matrix = new float[_width * _dimensions];
        _positions = new Dictionary<long, int>(papers.Count);
        for (var i = 0; i < papers.Count; i++)
        {
            var (id, vector) = papers[i];
            if (vector.Dimensions != _dimensions)
            {
                throw new ArgumentException($"Vectors of {_dimensions} and {vector.Dimensions} dimensions come from different models.", nameof(papers));
            }

            _paperIds[i] = id;
            vector.Values.CopyTo(_matrix.AsSpan(i * _dimensions, _dimensions));
            _positions[id] = i;
        }

        for (var r = papers.Count; r < _width; r++)
        {
            var vector = reference[r - papers.Count];
            if (vector.Dimensions != _dimensions)
            {
                throw new ArgumentException($"Vectors of {_dimensions} and {vector.Dimensions} dimensions come from different models.", nameof(reference));
            }

            vector.Values.CopyTo(_matrix.AsSpan(r * _dimensions, _dimensions));
        }
    }

    public int PaperCount => _paperIds.Length;

    /// <summary>The issue's papers and the reference papers: the length of a voted paper's row (<see cref="VoteCosines"/>),
    /// whose first <see cref="PaperCount"/> values are the issue's.</summary>
    public int RowWidth => _width;

    public IReadOnlyList<long> PaperIds => _paperIds;

    /// <summary>Position of a paper in the issue, or -1.</summary>
    public int PositionOf(long paperId) => _positions.TryGetValue(paperId, out var i) ? i : -1;

    /// <summary>How close each paper of the issue is to the interests line, standardised among the issue's and the
    /// reference papers (a z-score: standard deviations above the typical paper). Shared by every reader with the same line; read only.</summary>
    internal float[]? InterestRow(ReaderProfile profile) =>
        profile.InterestsVector is null ? null : InterestRow(profile.Interests, profile.InterestsVector);

    /// <summary>Lines whose rows are kept; past it a line's row is computed each time it is asked for. Previews read any
    /// line typed on the web against the latest issue, which stays the latest for a day.</summary>
    public const int MaxKeptInterestRows = 10_000;

    /// <inheritdoc cref="InterestRow(ReaderProfile)"/>
    public float[] InterestRow(string interests, Embedding vector) =>
        _interestRows.TryGetValue(interests, out var kept) ? kept!
        : _interestRows.Count >= MaxKeptInterestRows ? StandardRow(vector)
        : _interestRows.GetOrAdd(interests, static (_, arg) => arg.Self.StandardRow(arg.Vector), (Self: this, Vector: vector))!;

    /// <summary>The line's z-scores for the issue's papers, standardised with the reference papers.</summary>
    private float[] StandardRow(Embedding vector)
    {
        var all = Standardize(Cosines(vector));
        return all.Length == _paperIds.Length ? all : all[.._paperIds.Length];
    }

    /// <summary>The cosine of each paper of the issue, then of each reference paper (<see cref="RowWidth"/> values), with a
    /// voted paper, and where that paper is in the issue (-1 when it is not). Shared by every reader who voted on it;
    /// read only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ReadOnlySpan<float> VoteCosines(ProfileVote vote, out int position)
    {
        var prepared = _prepared;
        var slot = vote.Slot;
        if ((uint)slot < (uint)prepared.Slots.Length && prepared.Slots[slot] is { Prepared: true } known && known.PaperId == vote.PaperId)
        {
            position = known.Position;
            return prepared.Rows.AsSpan(slot * _width, _width);
        }

        return UnpreparedVoteCosines(vote, out position);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private float[] UnpreparedVoteCosines(ProfileVote vote, out int position)
    {
        var row = VoteRowOf(vote);
        position = row.Position;
        return row.Cosines;
    }

    private VoteRow VoteRowOf(ProfileVote vote) =>
        _voteRows.TryGetValue(vote.PaperId, out var row)
            ? row
            : _voteRows.GetOrAdd(vote.PaperId, static (id, arg) => new VoteRow(id, arg.Self.Cosines(arg.Vector), arg.Self.PositionOf(id)), (Self: this, Vector: vote.Paper));

    /// <summary>
    /// The rows of many lines at once, on every core, as one matrix: line <c>l</c>'s row (what
    /// <see cref="InterestRow(string, Embedding)"/> returns for it) is the <see cref="PaperCount"/> values from
    /// <c>l * PaperCount</c>. One array instead of one per line, so a fan-out's lines leave the collector one object.
    /// </summary>
    public float[] InterestRows(IReadOnlyList<Embedding> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        var rows = new float[vectors.Count * _paperIds.Length];
        InterestRows(vectors, rows);
        return rows;
    }

    /// <summary>
    /// The rows of <paramref name="vectors"/>, in order, into <paramref name="rows"/> from <paramref name="offset"/>
    /// (as <see cref="InterestRows(IReadOnlyList{Embedding})"/> lays them out).
    /// </summary>
    public void InterestRows(IReadOnlyList<Embedding> vectors, float[] rows, int offset = 0)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(rows);
        var n = _paperIds.Length;
        if (offset < 0 || rows.Length - offset < vectors.Count * n)
        {
            throw new ArgumentException($"{vectors.Count} rows of {n} from {offset} do not fit in {rows.Length} values.", nameof(rows));
        }
        // A partitioner of an empty range throws: a fan-out whose readers have no line read for meaning has nothing to do.
        if (vectors.Count == 0 || n == 0)
        {
            return;
        }
        // One thread per core: more (the pool may have them) only take turns on the cores and each other's caches.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.ForEach(Partitioner.Create(0, vectors.Count, 512), parallel, range =>
        {
            // A line's cosines cover the reference papers too (RowWidth): computed here, standardised, then cut to the issue's.
            var first = new float[_width];
            var second = new float[_width];
            var l = range.Item1;
            for (; l + 2 <= range.Item2; l += 2)
            {
                Cosines(vectors[l], vectors[l + 1], first, second);
                Standardize(first);
                Standardize(second);
                first.AsSpan(0, n).CopyTo(rows.AsSpan(offset + l * n, n));
                second.AsSpan(0, n).CopyTo(rows.AsSpan(offset + (l + 1) * n, n));
            }

            for (; l < range.Item2; l++)
            {
                Cosines(vectors[l], first);
                Standardize(first);
                first.AsSpan(0, n).CopyTo(rows.AsSpan(offset + l * n, n));
            }
        });
    }

    /// <summary>
    /// Computes the rows of the voted papers before readers are ranked (a fan-out knows them all), into one matrix that
    /// ranking reads by <see cref="ProfileVote.Slot"/>. Call it before ranking starts, not while readers are ranked.
    /// </summary>
    public void PrepareVotes(IReadOnlyList<ProfileVote> votes)
    {
        ArgumentNullException.ThrowIfNull(votes);
        var n = _width;
        var slots = new PreparedSlot[votes.Count == 0 ? 0 : Math.Max(0, votes.Max(v => v.Slot) + 1)];
        var rows = new float[slots.Length * n];
        foreach (var vote in votes)
        {
            var row = VoteRowOf(vote);
            if (vote.Slot >= 0)
            {
                row.Cosines.CopyTo(rows.AsSpan(vote.Slot * n, n));
                slots[vote.Slot] = new PreparedSlot(vote.PaperId, row.Position, Prepared: true);
            }
        }

        _prepared = new PreparedVotes(slots, rows);
    }

    /// <summary>The voted papers' rows by slot: slot <c>s</c>'s row is the <see cref="RowWidth"/> values from <c>s * RowWidth</c>.</summary>
    private sealed record PreparedVotes(PreparedSlot[] Slots, float[] Rows)
    {
        public static PreparedVotes None { get; } = new([], []);
    }

    private readonly record struct PreparedSlot(long PaperId, int Position, bool Prepared);

    /// <summary>Number of cached rows (lines and voted papers).</summary>
    public int CachedRows => _interestRows.Count + _voteRows.Count;

    private float[] Cosines(Embedding target)
    {
        var row = new float[_width];
        Cosines(target, row);
        return row;
    }

    /// <summary>The cosine of each paper of the issue (then of each reference paper, as far as <paramref name="row"/>
    /// goes) with <paramref name="target"/>, into <paramref name="row"/>.</summary>
    private void Cosines(Embedding target, Span<float> row)
    {
        if (target.Dimensions != _dimensions && _paperIds.Length > 0)
        {
            throw new ArgumentException($"Vectors of {_dimensions} and {target.Dimensions} dimensions come from different models.", nameof(target));
        }

        var values = target.Values;
        var d = _dimensions;
        var i = 0;
        if (Vector256.IsHardwareAccelerated && d % Vector256<float>.Count == 0)
        {
            // Four papers at a time: each load of the target feeds four products.
            ref var x = ref MemoryMarshal.GetReference(values);
            ref var m = ref MemoryMarshal.GetArrayDataReference(_matrix);
            for (; i + 4 <= row.Length; i += 4)
            {
                ref var p0 = ref Unsafe.Add(ref m, i * d);
                ref var p1 = ref Unsafe.Add(ref p0, d);
                ref var p2 = ref Unsafe.Add(ref p1, d);
                ref var p3 = ref Unsafe.Add(ref p2, d);
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (var k = 0; k < d; k += Vector256<float>.Count)
                {
                    var t = Vector256.LoadUnsafe(ref x, (nuint)k);
                    s0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref p0, (nuint)k), t, s0);
                    s1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref p1, (nuint)k), t, s1);
                    s2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref p2, (nuint)k), t, s2);
                    s3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref p3, (nuint)k), t, s3);
                }

                row[i] = Vector256.Sum(s0);
                row[i + 1] = Vector256.Sum(s1);
                row[i + 2] = Vector256.Sum(s2);
                row[i + 3] = Vector256.Sum(s3);
            }
        }

        for (; i < row.Length; i++)
        {
            row[i] = TensorPrimitives.Dot(_matrix.AsSpan(i * d, d), values);
        }
    }

    /// <summary>
    /// The cosines of each paper with two targets, each exactly as <see cref="Cosines(Embedding, Span{float})"/> computes
    /// it: each load of a paper feeds both targets, and eight sums in flight instead of four keep the multiply-add units
    /// busy while each waits for its previous result.
    /// </summary>
    private void Cosines(Embedding first, Embedding second, Span<float> firstRow, Span<float> secondRow)
    {
        if (!Vector256.IsHardwareAccelerated || _dimensions % Vector256<float>.Count != 0
            || first.Dimensions != _dimensions || second.Dimensions != _dimensions)
        {
            Cosines(first, firstRow);
            Cosines(second, secondRow);
            return;
        }

        var d = _dimensions;
        ref var x = ref MemoryMarshal.GetReference(first.Values);
        ref var y = ref MemoryMarshal.GetReference(second.Values);
        ref var m = ref MemoryMarshal.GetArrayDataReference(_matrix);
        var i = 0;
        for (; i + 4 <= firstRow.Length; i += 4)
        {
            ref var p0 = ref Unsafe.Add(ref m, i * d);
            ref var p1 = ref Unsafe.Add(ref p0, d);
            ref var p2 = ref Unsafe.Add(ref p1, d);
            ref var p3 = ref Unsafe.Add(ref p2, d);
            Vector256<float> x0 = default, x1 = default, x2 = default, x3 = default;
            Vector256<float> y0 = default, y1 = default, y2 = default, y3 = default;
            for (var k = 0; k < d; k += Vector256<float>.Count)
            {
                var a = Vector256.LoadUnsafe(ref x, (nuint)k);
                var b = Vector256.LoadUnsafe(ref y, (nuint)k);
                var q0 = Vector256.LoadUnsafe(ref p0, (nuint)k);
                var q1 = Vector256.LoadUnsafe(ref p1, (nuint)k);
                var q2 = Vector256.LoadUnsafe(ref p2, (nuint)k);
                var q3 = Vector256.LoadUnsafe(ref p3, (nuint)k);
                x0 = Vector256.FusedMultiplyAdd(q0, a, x0);
                y0 = Vector256.FusedMultiplyAdd(q0, b, y0);
                x1 = Vector256.FusedMultiplyAdd(q1, a, x1);
                y1 = Vector256.FusedMultiplyAdd(q1, b, y1);
                x2 = Vector256.FusedMultiplyAdd(q2, a, x2);
                y2 = Vector256.FusedMultiplyAdd(q2, b, y2);
                x3 = Vector256.FusedMultiplyAdd(q3, a, x3);
                y3 = Vector256.FusedMultiplyAdd(q3, b, y3);
            }

            firstRow[i] = Vector256.Sum(x0);
            firstRow[i + 1] = Vector256.Sum(x1);
            firstRow[i + 2] = Vector256.Sum(x2);
            firstRow[i + 3] = Vector256.Sum(x3);
            secondRow[i] = Vector256.Sum(y0);
            secondRow[i + 1] = Vector256.Sum(y1);
            secondRow[i + 2] = Vector256.Sum(y2);
            secondRow[i + 3] = Vector256.Sum(y3);
        }

        for (; i < firstRow.Length; i++)
        {
            firstRow[i] = TensorPrimitives.Dot(_matrix.AsSpan(i * d, d), first.Values);
            secondRow[i] = TensorPrimitives.Dot(_matrix.AsSpan(i * d, d), second.Values);
        }
    }

    /// <summary>In place: (x − mean) / standard deviation; all zero when the values cannot tell papers apart.</summary>
    internal static float[] Standardize(float[] values)
    {
        Standardize(values.AsSpan());
        return values;
    }

    /// <inheritdoc cref="Standardize(float[])"/>
    internal static void Standardize(Span<float> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        var mean = TensorPrimitives.Sum<float>(values) / values.Length;
        TensorPrimitives.Subtract(values, mean, values);
        var sd = MathF.Sqrt(TensorPrimitives.SumOfSquares<float>(values) / values.Length);
        if (sd < 1e-6f)
        {
            values.Clear();
            return;
        }

        TensorPrimitives.Multiply(values, 1 / sd, values);
    }
}

/// <summary>A voted paper seen from one issue: its cosine with each paper, and its own position (-1: not in the issue).</summary>
internal sealed record VoteRow(long PaperId, float[] Cosines, int Position);
