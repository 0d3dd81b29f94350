using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.IO;
using Newsletter.Digests;
using Newsletter.Mail;

namespace Newsletter.Benchmarks.Scenarios;

/// <summary>
/// Per-digest CPU cost of what SendBatchJob does before the network: render (DigestRenderer, with its size budget)
/// and compose (MimeKit), for digests of the sample's papers: with every paper block rendered for the digest, and with
/// the blocks already rendered for an earlier digest (the usual case in a fan-out).
/// </summary>
public static class RenderBenchmark
{
    private static string PeakRss() =>
        File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))["VmHWM:".Length..].Trim();

    public static async Task<IReadOnlyList<BenchmarkResult>> RunAsync(string listingPath, int iterations = 300)
    {
        var papers = MatchingBenchmark.ReadListing(listingPath);
        var renderer = new DigestRenderer(new EmailTemplates(Options.Create(new TemplateOptions()), NullLogger<EmailTemplates>.Instance));
        var composer = new DigestComposer(new OutgoingMail(Options.Create(new MailOptions { From = "Lab papers <digest@lab.bench.example>", ListId = "papers.lab.bench.example" }), TimeProvider.System));
        var links = new DigestLinks("https://papers.bench.example/digest/x", "https://papers.bench.example/manage/x", "https://papers.bench.example/unsubscribe/x");
        DigestModel Model(int count, bool shared = false) => new(new DateOnly(2025, 3, 11), "Trending papers - Mar 11", "reader@bench.example",
            papers.Take(count).Select(p => new DigestPaper(p.PaperId, p.Title, p.Abstract, $"https://arxiv.org/abs/{p.PaperId}", [], ["term"], 1.0)
            {
                BlockKey = shared ? $"{p.PaperId}|term" : null,
            }).ToList(), count, links);

        // As SMTP writes a message: CRLF line ends (FormatOptions.Default has the platform's, LF here).
        var wire = FormatOptions.Default.Clone();
        wire.NewLineFormat = NewLineFormat.Dos;
        var sizes = new[] { 3, 10, 25, 70 };
        var details = new Dictionary<string, string> { ["load average at start"] = Support.BenchEnvironment.LoadAverage() };
        details["peak RSS before compiling the templates"] = PeakRss();
        await renderer.RenderAsync(Model(1), CancellationToken.None); // compiles the templates
        details["peak RSS after compiling the templates"] = PeakRss();
        details["managed heap after compiling (after a full GC)"] = Support.BenchEnvironment.Format(GC.GetTotalMemory(forceFullCollection: true) / 1048576.0, "MB");
        double typical = 0;
        double typicalShared = 0;
        foreach (var (size, shared) in sizes.SelectMany(size => new[] { (size, false), (size, true) }))
        {
            var model = Model(size, shared);
            var label = shared ? $"{size} papers, blocks shared" : $"{size} papers";
            for (var i = 0; i < 20; i++)
            {
                await renderer.RenderAsync(model, CancellationToken.None);
            }
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var render = Stopwatch.StartNew();
            RenderedDigest rendered = null!;
            for (var i = 0; i < iterations; i++)
            {
                rendered = await renderer.RenderAsync(model, CancellationToken.None);
            }
            render.Stop();
            var renderAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var compose = Stopwatch.StartNew();
            long bytes = 0;
            for (var i = 0; i < iterations; i++)
            {
                var message = composer.Compose(new DigestEnvelope("reader@bench.example", 1, 1, 1, "10 papers", links), rendered);
                using var measure = new MeasuringStream();
                message.WriteTo(wire, measure);
                bytes = measure.Length;
            }
            compose.Stop();
            var composeAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            var renderUs = render.Elapsed.TotalMicroseconds / iterations;
            details[$"{label}: render"] = Support.BenchEnvironment.Format(renderUs, "µs");
            details[$"{label}: compose + write"] = Support.BenchEnvironment.Format(compose.Elapsed.TotalMicroseconds / iterations, "µs");
            details[$"{label}: message size, papers shown"] = $"{bytes} B, {rendered.PapersShown}";
            // Garbage per digest is what the worker's collector pays for in a fan-out (a quarter of its CPU, perf).
            details[$"{label}: allocated per render / per compose + write"] =
                $"{renderAllocated / iterations / 1024.0:0.0} KB / {composeAllocated / iterations / 1024.0:0.0} KB";
            if (size == 10 && shared)
            {
                typicalShared = renderUs;
            }
            else if (size == 10)
            {
                typical = renderUs;
            }
        }
        details["peak RSS at the end"] = PeakRss();
        details[$"managed heap after {sizes.Length * 2 * (iterations + 20)} more renders (after a full GC)"] =
            Support.BenchEnvironment.Format(GC.GetTotalMemory(forceFullCollection: true) / 1048576.0, "MB");
        return
        [
            new BenchmarkResult("render", "DigestRenderer.RenderAsync, 10-paper digest, every block rendered", Math.Round(typical, 1), "µs",
                Target: "no target (diagnostic)", Details: details),
            new BenchmarkResult("render", "the same, paper blocks rendered by an earlier digest", Math.Round(typicalShared, 1), "µs",
                Target: "no target (diagnostic)"),
        ];
    }
}
