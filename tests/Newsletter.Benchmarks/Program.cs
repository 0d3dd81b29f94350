using System.Text.Json;
using Newsletter.Benchmarks;
using Newsletter.Benchmarks.Scenarios;

// Usage: newsletter-benchmarks [parse] [matching] ... (no argument: the in-process scenarios).
var testData = Path.Combine(AppContext.BaseDirectory, "TestData");
var scenarios = args.Length > 0 ? args : ["parse", "matching"];
var results = new List<BenchmarkResult>();
foreach (var scenario in scenarios)
{
    results.Add(scenario switch
    {
        "parse" => ParseBenchmark.Run(Path.Combine(testData, "trending-papers-2025-03-11.eml")),
        "matching" => MatchingBenchmark.Run(Path.Combine(testData, "trending-papers-2025-03-11.txt")),
        // Needs a database it may empty: NEWSLETTER_BENCH_PG="Host=...;Database=...;Username=...".
        "import" => ImportBenchmark.Run(Environment.GetEnvironmentVariable("NEWSLETTER_BENCH_PG")
            ?? throw new ArgumentException("The import scenario needs NEWSLETTER_BENCH_PG, a connection string to a scratch database.")),
        _ => throw new ArgumentException($"Unknown scenario '{scenario}'. Known: parse, matching, import."),
    });
    Console.WriteLine(JsonSerializer.Serialize(results[^1]));
}

Console.WriteLine();
Console.WriteLine($"{"scenario",-10} {"metric",-28} {"value",12} {"baseline",12} {"ratio",8}  target");
foreach (var r in results)
{
    Console.WriteLine($"{r.Scenario,-10} {r.Metric,-28} {r.Value,12:N1} {r.BaselineValue,12:N1} {r.Ratio,8:N2}  {r.Target} {(r.TargetMet is { } met ? (met ? "met" : "MISSED") : "")}");
}
