using System.Diagnostics;
using System.Globalization;

namespace Newsletter.Relevance.Evaluation;

/// <summary>What embedding costs: model load time, one listing's embedding time, and the process's memory.</summary>
public static class CostProbe
{
    public static void Print(ModelChoice model, JudgementSet set)
    {
        var listing = set.Listings.MaxBy(l => l.Count)!;
        var before = ResidentMegabytes();
        var clock = Stopwatch.StartNew();
        using var embedder = model.CreateEmbedder();
        embedder.Embed(["warm-up"]);
        var load = clock.Elapsed;
        var loaded = ResidentMegabytes();
        var papers = listing.Select(p => (p.Title, (string?)p.Abstract)).ToArray();
        clock.Restart();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        embedder.EmbedPapers(papers);
        var first = clock.Elapsed;
        var firstCpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        clock.Restart();
        embedder.EmbedPapers(papers);
        var second = clock.Elapsed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"model\":\"{model.Name}\",\"papers\":{papers.Length},\"loadSeconds\":{load.TotalSeconds:F2},\"embedSeconds\":{first.TotalSeconds:F2},\"embedAgainSeconds\":{second.TotalSeconds:F2},\"embedCpuSeconds\":{firstCpu.TotalSeconds:F2},\"rssBeforeMB\":{before:F0},\"rssLoadedMB\":{loaded:F0},\"rssPeakMB\":{PeakMegabytes():F0},\"cores\":{Environment.ProcessorCount},\"loadAverage\":\"{File.ReadAllText("/proc/loadavg").Split(' ')[0]}\"}}"));
    }

    private static double ResidentMegabytes()
    {
        GC.Collect();
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64 / 1048576.0;
    }

    private static double PeakMegabytes()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}
