using System.Collections.Concurrent;

namespace Newsletter.Subscribers;

/// <summary>
/// Parses each distinct interests line once: many subscribers share a line, and a parsed query does not depend on
/// the issue, so one cache serves the pages. Thread-safe. Lines are expected valid (checked when saved). The worker
/// does without it: a fan-out parses each of its lines once into a table of its own, and a send batch, whose readers
/// come in the order of their lines, keeps the last line it parsed.
/// Bounded: past <see cref="Capacity"/> lines or <see cref="MaxBytes"/> (estimated) it starts over, so 100,000
/// subscribers with lines of their own (or anyone who subscribes with long ones) cost a re-parse now and then
/// (microseconds) instead of a hundred megabytes held for the life of the process.
/// </summary>
public sealed class InterestQueryCache
{
    public const int Capacity = 10_000;

    public const long MaxBytes = 16L * 1024 * 1024;

    private readonly ConcurrentDictionary<string, InterestQuery> _queries = new(StringComparer.Ordinal);
    private long _bytes;

    public int Count => _queries.Count;

    /// <summary>The parsed line; throws <see cref="InterestSyntaxException"/> for an invalid one (not cached).</summary>
    public InterestQuery GetOrParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return InterestQuery.Empty;
        }

        if (_queries.TryGetValue(text, out var query))
        {
            return query;
        }
        var parsed = InterestQuery.Parse(text);
        var bytes = EstimatedBytes(text, parsed);
        if (_queries.Count >= Capacity || Interlocked.Add(ref _bytes, bytes) > MaxBytes)
        {
            _queries.Clear();
            Interlocked.Exchange(ref _bytes, bytes);
        }
        return _queries.GetOrAdd(text, parsed);
    }

    /// <summary>
    /// The key and the query: the line is held about four times over (key, canonical form, each term's original and
    /// folded words), plus a few small objects per term.
    /// </summary>
    private static long EstimatedBytes(string text, InterestQuery query) =>
        256 + 8L * text.Length + 320L * (query.PositiveTerms.Length + query.Exclusions.Length);

    /// <summary>
    /// A stored line, parsed. Lines are checked when saved, so null (with the parser's <paramref name="error"/>) only
    /// comes from a line saved under older rules; callers decide what such a subscriber gets.
    /// </summary>
    public InterestQuery? TryGetOrParse(string? text, out string? error)
    {
        try
        {
            error = null;
            return GetOrParse(text);
        }
        catch (InterestSyntaxException ex)
        {
            error = ex.Message;
            return null;
        }
    }
}
