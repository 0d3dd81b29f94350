using System.Diagnostics;
using System.Globalization;
using MimeKit;
using Newsletter.Inbox;

namespace Newsletter.Benchmarks.Scenarios;

/// <summary>
/// Mean time to load and parse the sample listing as the ingestor does (from bytes in memory, parts left in place),
/// against MimeKit's same load of the same bytes alone.
/// </summary>
public static class ParseBenchmark
{
    private const double TargetMicroseconds = 5_000;

    public static BenchmarkResult Run(string emlPath, int iterations = 2000)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(iterations);
        var bytes = File.ReadAllBytes(emlPath);
        var parser = new TrendingEmailParser();
        var papers = 0;

        double Ours()
        {
            papers = parser.Parse(TrendingEmailParser.LoadPersistent(bytes)).Papers.Count;
            return papers;
        }

        double LoadOnly()
        {
            using var stream = new MemoryStream(bytes, writable: false);
            return MimeMessage.Load(stream, persistent: true).Headers.Count;
        }

        var warmup = Math.Max(20, iterations / 10);
        Measure(Ours, warmup);
        Measure(LoadOnly, warmup);
        var ours = Measure(Ours, iterations);
        var baseline = Measure(LoadOnly, iterations);

        return new BenchmarkResult(
            Scenario: "parse",
            Metric: "mean time per parse of the sample listing",
            Value: Math.Round(ours, 1),
            Unit: "µs",
            Baseline: "MimeMessage.Load of the same bytes (persistent)",
            BaselineValue: Math.Round(baseline, 1),
            Ratio: Math.Round(ours / baseline, 2),
            Target: "under 5 ms",
            TargetMet: ours < TargetMicroseconds,
            Details: new Dictionary<string, string>
            {
                ["iterations"] = iterations.ToString(CultureInfo.InvariantCulture),
                ["papers"] = papers.ToString(CultureInfo.InvariantCulture),
                ["bytes"] = bytes.Length.ToString(CultureInfo.InvariantCulture),
            });
    }

    private static double Measure(Func<double> action, int iterations)
    {
        var sink = 0.0;
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            sink += action();
        }

        stopwatch.Stop();
        GC.KeepAlive(sink);
        return stopwatch.Elapsed.TotalMicroseconds / iterations;
    }
}
