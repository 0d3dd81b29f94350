using Newsletter.Subscribers;

namespace Newsletter.Relevance;

/// <summary>
/// The keyword lines' rows against one issue (each what <see cref="IssueSimilarities.InterestRow(string, Embedding)"/>
/// gives its line), in one matrix, by the line's text (<see cref="TextEmbedder.InterestsText"/>). Built as the vectors
/// are read, a block of lines at a time on every core, so a fan-out holds each line's similarity to the issue's papers
/// (70 floats), never its vector (384 floats): for 50,000 lines, 14 MB instead of a further 77 MB. Read-only once
/// <see cref="Complete"/> returns; then safe to share between threads.
/// </summary>
public sealed class LineRows
{
    /// <summary>Lines whose vectors are held before their rows are computed.</summary>
    private const int BlockSize = 2048;

    private readonly IssueSimilarities _issue;
    private readonly Dictionary<string, int> _numbers;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _numbersBySpan;
    private readonly List<Embedding> _block = new(BlockSize);
    private float[] _rows;
    private int _computed;

    /// <param name="expectedLines">About how many lines will be added (the matrix is sized for them up front).</param>
    public LineRows(IssueSimilarities issue, int expectedLines)
    {
        ArgumentNullException.ThrowIfNull(issue);
        _issue = issue;
        _numbers = new Dictionary<string, int>(Math.Max(0, expectedLines), StringComparer.Ordinal);
        _numbersBySpan = _numbers.GetAlternateLookup<ReadOnlySpan<char>>();
        _rows = new float[Math.Max(0, expectedLines) * issue.PaperCount];
    }

    /// <summary>No line read for meaning: every reader of the fan-out is ranked by keywords and votes.</summary>
    public static LineRows None(IssueSimilarities issue) => new(issue, 0);

    /// <summary>The rows of lines whose vectors are all at hand (tests, the scoring benchmark).</summary>
    public static LineRows Of(IssueSimilarities issue, IReadOnlyDictionary<string, Embedding> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var rows = new LineRows(issue, lines.Count);
        foreach (var (text, vector) in lines)
        {
            rows.Add(text, vector);
        }
        return rows.Complete();
    }

    /// <summary>Lines with a row.</summary>
    public int Count => _numbers.Count;

    /// <summary>Adds a line (a second time: ignored); its row is computed with its block.</summary>
    public void Add(string text, Embedding vector)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(vector);
        if (!_numbers.TryAdd(text, _numbers.Count))
        {
            return;
        }
        _block.Add(vector);
        if (_block.Count == BlockSize)
        {
            ComputeBlock();
        }
    }

    /// <summary>Computes the rows of the lines still held; call once every line is added.</summary>
    public LineRows Complete()
    {
        ComputeBlock();
        return this;
    }

    /// <summary>Where the line's row starts (for <see cref="Row"/>), or -1 when the line has none.</summary>
    public int RowStart(string text) => _numbers.TryGetValue(text, out var number) ? number * _issue.PaperCount : -1;

    /// <summary>Where the row of the query's line (<see cref="TextEmbedder.InterestsText"/>) starts, or -1; the text is
    /// looked up from the stack, not made into a string.</summary>
    public int RowStart(InterestQuery query)
    {
        Span<char> text = stackalloc char[256];
        if (!TextEmbedder.TryWriteInterestsText(query, text, out var written))
        {
            return RowStart(TextEmbedder.InterestsText(query));
        }

        return _numbersBySpan.TryGetValue(text[..written], out var number) ? number * _issue.PaperCount : -1;
    }

    /// <summary>The row that starts at <paramref name="start"/> (<see cref="RowStart"/>): one z-score per paper of the issue.</summary>
    public ReadOnlySpan<float> Row(int start) => _rows.AsSpan(start, _issue.PaperCount);

    private void ComputeBlock()
    {
        if (_block.Count == 0)
        {
            return;
        }
        var needed = (_computed + _block.Count) * _issue.PaperCount;
        if (needed > _rows.Length)
        {
            Array.Resize(ref _rows, Math.Max(needed, 2 * _rows.Length));
        }
        _issue.InterestRows(_block, _rows, _computed * _issue.PaperCount);
        _computed += _block.Count;
        _block.Clear();
    }
}
