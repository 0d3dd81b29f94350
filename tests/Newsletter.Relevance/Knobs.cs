using System.Globalization;

namespace Newsletter.Relevance.Evaluation;

/// <summary>A method's settings from the command line: <c>name:key=value,key=value</c>.</summary>
public sealed class Knobs(string spec)
{
    private readonly Dictionary<string, string> _values = spec.Contains(':', StringComparison.Ordinal)
        ? spec[(spec.IndexOf(':', StringComparison.Ordinal) + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "")
        : [];

    public string Kind { get; } = spec.Split(':')[0];

    public string Spec { get; } = spec;

    public double Number(string key, double fallback) =>
        _values.TryGetValue(key, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public string Text(string key, string fallback) => _values.TryGetValue(key, out var v) ? v : fallback;
}
