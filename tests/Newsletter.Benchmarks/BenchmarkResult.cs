namespace Newsletter.Benchmarks;

/// <summary>One printed line of the benchmark run: ours against a baseline measured in the same run.</summary>
public sealed record BenchmarkResult(
    string Scenario,
    string Metric,
    double Value,
    string Unit,
    string? Baseline = null,
    double? BaselineValue = null,
    double? Ratio = null,
    string? Target = null,
    bool? TargetMet = null,
    IReadOnlyDictionary<string, string>? Details = null);
