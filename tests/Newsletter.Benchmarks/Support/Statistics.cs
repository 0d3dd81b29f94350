namespace Newsletter.Benchmarks.Support;

/// <summary>Summaries of repeated measurements.</summary>
public static class Statistics
{
    /// <summary>The middle value (the upper one of an even count): what a run reports from its repeats.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
