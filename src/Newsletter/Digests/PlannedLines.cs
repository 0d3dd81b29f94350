namespace Newsletter.Digests;

/// <summary>
/// What a fan-out works out once per keyword line for every reader who typed it (by the line as stored, so a reader whose
/// line is planned already costs no parse): where the line's row is among the lines' rows, the papers its -terms keep out
/// of suggestions, and its keyword matches (positions and scores, best first); or why the line could not be read. Lines
/// are numbered as they are reserved; a fan-out reserves its new lines on one thread, then works them out on every core,
/// each thread writing its own lines' slots and its own chunks of matches, without a lock.
/// </summary>
internal sealed class PlannedLines
{
    private readonly Dictionary<string, int> _numbers;
    private Line[] _lines;

    /// <param name="expectedLines">About how many lines will be reserved (sized for them up front).</param>
    public PlannedLines(int expectedLines)
    {
        _numbers = new Dictionary<string, int>(Math.Max(0, expectedLines), StringComparer.Ordinal);
        _lines = new Line[Math.Max(16, expectedLines)];
    }

    /// <summary>A line as its readers are planned: its row's start (-1: no vector), its -term mask, its matches (the
    /// papers' positions in the matcher's issue, their scores, whether a keyword is in their title); <see cref="Error"/>:
    /// the parser's, for a line that could not be read (no matches then).</summary>
    public readonly record struct Line(int Row, bool[] Unsuggestible, int[] MatchChunk, double[] ScoreChunk, bool[] TitleChunk, int MatchStart, int MatchCount)
    {
        public string? Error { get; init; }

        public ReadOnlySpan<int> MatchPositions => MatchChunk.AsSpan(MatchStart, MatchCount);

        public ReadOnlySpan<double> MatchScores => ScoreChunk.AsSpan(MatchStart, MatchCount);

        public ReadOnlySpan<bool> MatchInTitle => TitleChunk.AsSpan(MatchStart, MatchCount);

        public static Line Unreadable(string error) => new(-1, [], [], [], [], 0, 0) { Error = error };
    }

    /// <summary>Lines reserved so far (numbers 0 to Count - 1).</summary>
    public int Count => _numbers.Count;

    /// <summary>The line's number, reserving the next one for a line not seen yet (<paramref name="added"/>: true; the
    /// caller then <see cref="Set"/>s it). Not thread-safe: one thread reserves, and no thread plans meanwhile.</summary>
    public int Reserve(string text, out bool added)
    {
        ref var number = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_numbers, text, out var exists);
        added = !exists;
        if (added)
        {
            number = _numbers.Count - 1;
            if (number == _lines.Length)
            {
                Array.Resize(ref _lines, 2 * _lines.Length);
            }
        }

        return number;
    }

    /// <summary>Keeps a reserved line; threads may set different lines at once.</summary>
    public void Set(int number, Line line) => _lines[number] = line;

    public ref readonly Line this[int number] => ref _lines[number];

    /// <summary>
    /// Copies the matches of the lines one thread works out into chunks of its own, from small (a re-send plans one reader)
    /// to a size that stays off the large object heap.
    /// </summary>
    public sealed class MatchWriter
    {
        private const int FirstChunkSize = 1 << 10;
        private const int MaxChunkSize = 1 << 13;

        private int[] _positionChunk = [];
        private double[] _scoreChunk = [];
        private bool[] _titleChunk = [];
        private int _used;

        public Line Write(int row, bool[] unsuggestible, ReadOnlySpan<int> matchPositions, ReadOnlySpan<double> matchScores, ReadOnlySpan<bool> matchInTitle)
        {
            if (matchPositions.IsEmpty)
            {
                return new Line(row, unsuggestible, [], [], [], 0, 0);
            }

            if (_used + matchPositions.Length > _positionChunk.Length)
            {
                var size = Math.Max(matchPositions.Length, Math.Clamp(2 * _positionChunk.Length, FirstChunkSize, MaxChunkSize));
                _positionChunk = new int[size];
                _scoreChunk = new double[size];
                _titleChunk = new bool[size];
                _used = 0;
            }

            var start = _used;
            matchPositions.CopyTo(_positionChunk.AsSpan(start));
            matchScores.CopyTo(_scoreChunk.AsSpan(start));
            matchInTitle.CopyTo(_titleChunk.AsSpan(start));
            _used += matchPositions.Length;
            return new Line(row, unsuggestible, _positionChunk, _scoreChunk, _titleChunk, start, matchPositions.Length);
        }
    }
}
