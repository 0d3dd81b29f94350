using System.Collections.Concurrent;

namespace Newsletter.Subscribers;

/// <summary>
/// Parses each distinct interests line once: many subscribers share a line, and a parsed query does not depend on
/// the issue, so one cache serves every fan-out. Thread-safe. Lines are expected valid (checked when saved).
/// Bounded: past <see cref="Capacity"/> lines it starts over, so 100,000 subscribers with lines of their own cost a
/// re-parse now and then (microseconds) instead of a hundred megabytes held for the life of the worker.
/// </summary>
public sealed class InterestQueryCache
{
    public const int Capacity = 10_000;

    private readonly ConcurrentDictionary<string, InterestQuery> _queries = new(StringComparer.Ordinal);

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
        if (_queries.Count >= Capacity)
        {
            _queries.Clear();
        }
        return _queries.GetOrAdd(text, InterestQuery.Parse(text));
    }

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
