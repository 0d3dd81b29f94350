using System.Text.Json;
using Newsletter.Benchmarks;
using Newsletter.Benchmarks.Scenarios;
using Newsletter.Benchmarks.Support;

// Usage: newsletter-benchmarks [parse] [matching] [scoring] [render] [fan-out] [outcome-writes] [ingestion] [time-to-inbox] [web]  (no argument: all).
// fan-out, outcome-writes, ingestion, time-to-inbox and web need the services tests/bench.sh starts (BENCH_* variables).
var testData = Path.Combine(AppContext.BaseDirectory, "TestData");
var sample = Path.Combine(testData, "trending-papers-2025-03-11.eml");
var listing = Path.Combine(testData, "trending-papers-2025-03-11.txt");
// The in-process CPU scenarios first, on a quiet machine: after fan-out, PostgreSQL is still writing its checkpoint.
string[] known = ["parse", "matching", "scoring", "render", "fan-out", "outcome-writes", "ingestion", "time-to-inbox", "web"];
var scenarios = args.Length > 0 ? args : known;
var results = new List<BenchmarkResult>();
var usedPostgres = false;
foreach (var scenario in scenarios)
{
    if (scenario is "fan-out" or "outcome-writes" or "ingestion" or "time-to-inbox" or "web")
    {
        if (usedPostgres)
        {
            await BenchEnvironment.FromVariables().SettleAsync();
        }
        usedPostgres = true;
    }
    IReadOnlyList<BenchmarkResult> run = scenario switch
    {
        "parse" => [ParseBenchmark.Run(sample)],
        "render" => await RenderBenchmark.RunAsync(listing),
        "matching" => [MatchingBenchmark.Run(listing)],
        "scoring" => [ScoringBenchmark.Run(listing)],
        "fan-out" => await FanOutBenchmark.RunAsync(BenchEnvironment.FromVariables(), sample, listing),
        "outcome-writes" => await OutcomeWritesBenchmark.RunAsync(BenchEnvironment.FromVariables()),
        "ingestion" => [await IngestionBenchmark.RunAsync(BenchEnvironment.FromVariables(), sample)],
        "time-to-inbox" => await TimeToInboxBenchmark.RunAsync(BenchEnvironment.FromVariables(), sample, listing),
        "web" => await WebBenchmark.RunAsync(BenchEnvironment.FromVariables(), sample),
        // Needs a database it may empty: NEWSLETTER_BENCH_PG="Host=...;Database=...;Username=...".
        "import" => [ImportBenchmark.Run(Environment.GetEnvironmentVariable("NEWSLETTER_BENCH_PG")
            ?? throw new ArgumentException("The import scenario needs NEWSLETTER_BENCH_PG, a connection string to a scratch database."))],
        _ => throw new ArgumentException($"Unknown scenario '{scenario}'. Known: {string.Join(", ", known)}."),
    };
    foreach (var result in run)
    {
        results.Add(result);
        Console.WriteLine(JsonSerializer.Serialize(result));
    }
}

Console.WriteLine();
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average at the end {BenchEnvironment.LoadAverage()}");
Console.WriteLine($"{"scenario",-13} {"metric",-62} {"value",10} {"unit",-6} {"baseline",10} {"ratio",7}  target");
foreach (var r in results)
{
    Console.WriteLine($"{r.Scenario,-13} {BenchEnvironment.Cut(r.Metric, 62),-62} {r.Value,10:N1} {r.Unit,-6} {r.BaselineValue,10:N1} {r.Ratio,7:N2}  {r.Target} {(r.TargetMet is { } met ? (met ? "met" : "MISSED") : "")}");
}

