using Newsletter.Benchmarks.Scenarios;

if (args is ["matching", ..])
{
    var result = MatchingBenchmark.Run(Path.Combine(AppContext.BaseDirectory, "TestData", "trending-papers-2025-03-11.txt"));
    Console.WriteLine(result);
    foreach (var (key, value) in result.Details ?? new Dictionary<string, string>())
    {
        Console.WriteLine($"  {key}: {value}");
    }

    return;
}

Console.WriteLine("benchmarks: scenarios are wired in by the benchmark issue");
