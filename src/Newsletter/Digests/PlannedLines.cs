using System.Numerics;
using Newsletter.Subscribers;

namespace Newsletter.Digests;

/// <summary>
/// What a fan-out works out once per keyword line for every reader who typed it (by the line as stored, so a reader whose
/// line is planned already costs no parse): where the line's row is among the lines' rows, the papers its -terms keep out
/// of suggestions, and its keyword matches (positions and scores, best first), kept in a few large arrays; or why the line
/// could not be read. Look-ups take no lock; adding takes one.
/// </summary>
internal sealed class PlannedLines
{
    private const int FirstChunkSize = 1 << 10;
    private const int MaxChunkSize = 1 << 13;

    private readonly Lock _adding = new();
    private int[] _positionChunk = [];
    private double[] _scoreChunk = [];
    private bool[] _titleChunk = [];
    private int _chunkUsed;
    private Table _table;

    /// <param name="expectedLines">About how many lines will be added (the table is sized for them up front).</param>
    public PlannedLines(int expectedLines) =>
        _table = new Table((int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(64, 2 * expectedLines)));

    /// <summary>A line as its readers are planned: its row's start (-1: no vector), its -term mask, its matches (the
    /// papers' positions in the matcher's issue, their scores, whether a keyword is in their title); <see cref="Error"/>:
    /// the parser's, for a line that could not be read (no matches then).</summary>
    public readonly record struct Line(int Row, bool[] Unsuggestible, int[] MatchChunk, double[] ScoreChunk, bool[] TitleChunk, int MatchStart, int MatchCount)
    {
        public string? Error { get; init; }

        public ReadOnlySpan<int> MatchPositions => MatchChunk.AsSpan(MatchStart, MatchCount);

        public ReadOnlySpan<double> MatchScores => ScoreChunk.AsSpan(MatchStart, MatchCount);

        public ReadOnlySpan<bool> MatchInTitle => TitleChunk.AsSpan(MatchStart, MatchCount);
    }

    /// <summary>The hash <see cref="TryGet"/> and <see cref="Add"/> take: a new line is hashed once, not once per look-up.</summary>
    public static int Hash(string text) => text.GetHashCode(StringComparison.Ordinal);

    public bool TryGet(string text, int hash, out Line line) => Volatile.Read(ref _table).TryGet(text, hash, out line);

    /// <summary>Keeps a line that could not be read (or returns what another thread kept first).</summary>
    public Line AddUnreadable(string text, int hash, string error)
    {
        lock (_adding)
        {
            return _table.TryGet(text, hash, out var known) ? known : Keep(text, hash, new Line(-1, [], [], [], [], 0, 0) { Error = error });
        }
    }

    /// <summary>Keeps the line (or returns the one another thread kept first); the matches are copied.</summary>
    public Line Add(string text, int hash, int row, bool[] unsuggestible, ReadOnlySpan<int> matchPositions, ReadOnlySpan<double> matchScores,
        ReadOnlySpan<bool> matchInTitle)
    {
        lock (_adding)
        {
            if (_table.TryGet(text, hash, out var known))
            {
                return known;
            }

            int[] positions = [];
            double[] scores = [];
            bool[] titles = [];
            var start = 0;
            if (matchPositions.Length > 0)
            {
                if (_chunkUsed + matchPositions.Length > _positionChunk.Length)
                {
                    // Chunks grow from small (a re-send plans one reader) to a size that stays off the large object heap.
                    var size = Math.Max(matchPositions.Length, Math.Clamp(2 * _positionChunk.Length, FirstChunkSize, MaxChunkSize));
                    _positionChunk = new int[size];
                    _scoreChunk = new double[size];
                    _titleChunk = new bool[size];
                    _chunkUsed = 0;
                }

                positions = _positionChunk;
                scores = _scoreChunk;
                titles = _titleChunk;
                start = _chunkUsed;
                matchPositions.CopyTo(positions.AsSpan(start));
                matchScores.CopyTo(scores.AsSpan(start));
                matchInTitle.CopyTo(titles.AsSpan(start));
                _chunkUsed += matchPositions.Length;
            }

            return Keep(text, hash, new Line(row, unsuggestible, positions, scores, titles, start, matchPositions.Length));
        }
    }

    /// <summary>Adds a line no thread has kept yet; the caller holds the lock and has looked.</summary>
    private Line Keep(string text, int hash, Line line)
    {
        if (!_table.TryAdd(text, hash, line))
        {
            // Full: a table twice the size takes every line, then replaces the old one for readers.
            var larger = _table.Grow();
            larger.TryAdd(text, hash, line);
            Volatile.Write(ref _table, larger);
        }

        return line;
    }

    /// <summary>Open addressing, filled to half at most; an entry's value is written before its key.</summary>
    private sealed class Table(int capacity)
    {
        private readonly string?[] _keys = new string?[capacity];
        private readonly Line[] _values = new Line[capacity];
        private int _count;

        public bool TryGet(string text, int hash, out Line line)
        {
            var mask = _keys.Length - 1;
            for (var i = hash & mask; ; i = (i + 1) & mask)
            {
                var key = Volatile.Read(ref _keys[i]);
                if (string.Equals(key, text, StringComparison.Ordinal))
                {
                    line = _values[i];
                    return true;
                }

                if (key is null)
                {
                    line = default;
                    return false;
                }
            }
        }

        /// <summary>False when the table is half full (the caller grows it).</summary>
        public bool TryAdd(string text, int hash, Line line)
        {
            if (2 * (_count + 1) > _keys.Length)
            {
                return false;
            }

            var mask = _keys.Length - 1;
            var i = hash & mask;
            while (_keys[i] is not null)
            {
                i = (i + 1) & mask;
            }

            _values[i] = line;
            Volatile.Write(ref _keys[i], text);
            _count++;
            return true;
        }

        public Table Grow()
        {
            var larger = new Table(2 * _keys.Length);
            for (var i = 0; i < _keys.Length; i++)
            {
                if (_keys[i] is { } key)
                {
                    larger.TryAdd(key, Hash(key), _values[i]);
                }
            }

            return larger;
        }
    }
}
