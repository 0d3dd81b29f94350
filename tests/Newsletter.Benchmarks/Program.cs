Console.WriteLine("benchmarks: scenarios are wired in by the benchmark issue");
