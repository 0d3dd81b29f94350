using Newsletter.Benchmarks.Scenarios;

if (args is ["parse", ..])
{
    var path = args.Length > 1 ? args[1] : Path.Combine(AppContext.BaseDirectory, "TestData", "trending-papers-2025-03-11.eml");
    Console.WriteLine(ParseBenchmark.Run(path));
    return;
}

Console.WriteLine("benchmarks: scenarios are wired in by the benchmark issue");
