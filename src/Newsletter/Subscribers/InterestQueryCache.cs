using System.Collections.Concurrent;

namespace Newsletter.Subscribers;

/// <summary>
/// Parses each distinct interests line once: many subscribers share a line, and a parsed query does not depend on
/// the issue, so one cache serves every fan-out. Thread-safe. Lines are expected valid (checked when saved).
/// </summary>
public sealed class InterestQueryCache
{
    private readonly ConcurrentDictionary<string, InterestQuery> _queries = new(StringComparer.Ordinal);

    public int Count => _queries.Count;

    /// <summary>The parsed line; throws <see cref="InterestSyntaxException"/> for an invalid one (not cached).</summary>
    public InterestQuery GetOrParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return InterestQuery.Empty;
        }

        return _queries.TryGetValue(text, out var query) ? query : _queries.GetOrAdd(text, InterestQuery.Parse(text));
    }
}
