using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.IO;
using Newsletter.Digests;

namespace Newsletter.Benchmarks.Scenarios;

/// <summary>
/// Per-digest CPU cost of what SendBatchJob does before the network: render (DigestRenderer, with its size budget)
/// and compose (MimeKit), for digests of the sample's papers; against one bare RazorLight-compiled render.
/// </summary>
public static class RenderBenchmark
{
    private static string PeakRss() =>
        File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))["VmHWM:".Length..].Trim();

    public static async Task<BenchmarkResult> RunAsync(string listingPath, int iterations = 300)
    {
        var papers = MatchingBenchmark.ReadListing(listingPath);
        var renderer = new DigestRenderer(new EmailTemplates(Options.Create(new TemplateOptions()), NullLogger<EmailTemplates>.Instance));
        var composer = new DigestComposer(Options.Create(new MailOptions { From = "Lab papers <digest@lab.bench.example>", ListId = "papers.lab.bench.example" }), TimeProvider.System);
        var links = new DigestLinks("https://papers.bench.example/digest/x", "https://papers.bench.example/manage/x", "https://papers.bench.example/unsubscribe/x");
        DigestModel Model(int count) => new(new DateOnly(2025, 3, 11), "Trending papers - Mar 11", "reader@bench.example",
            papers.Take(count).Select(p => new DigestPaper(p.PaperId, p.Title, p.Abstract, $"https://arxiv.org/abs/{p.PaperId}", [], ["term"], 1.0)).ToList(), count, links);

        var sizes = new[] { 3, 10, 25, 70 };
        var details = new Dictionary<string, string> { ["load average at start"] = Support.BenchEnvironment.LoadAverage() };
        details["peak RSS before compiling the templates"] = PeakRss();
        await renderer.RenderAsync(Model(1), CancellationToken.None); // compiles the templates
        details["peak RSS after compiling the templates"] = PeakRss();
        details["managed heap after compiling (after a full GC)"] = Support.BenchEnvironment.Format(GC.GetTotalMemory(forceFullCollection: true) / 1048576.0, "MB");
        double typical = 0;
        foreach (var size in sizes)
        {
            var model = Model(size);
            for (var i = 0; i < 20; i++)
            {
                await renderer.RenderAsync(model, CancellationToken.None);
            }
            var render = Stopwatch.StartNew();
            RenderedDigest rendered = null!;
            for (var i = 0; i < iterations; i++)
            {
                rendered = await renderer.RenderAsync(model, CancellationToken.None);
            }
            render.Stop();
            var compose = Stopwatch.StartNew();
            long bytes = 0;
            for (var i = 0; i < iterations; i++)
            {
                var message = composer.Compose(new DigestEnvelope("reader@bench.example", 1, 1, 1, "10 papers", links), rendered);
                using var measure = new MeasuringStream();
                message.WriteTo(FormatOptions.Default, measure);
                bytes = measure.Length;
            }
            compose.Stop();
            var renderUs = render.Elapsed.TotalMicroseconds / iterations;
            details[$"{size} papers: render"] = Support.BenchEnvironment.Format(renderUs, "µs");
            details[$"{size} papers: compose + write"] = Support.BenchEnvironment.Format(compose.Elapsed.TotalMicroseconds / iterations, "µs");
            details[$"{size} papers: message size, papers shown"] = $"{bytes} B, {rendered.PapersShown}";
            if (size == 10)
            {
                typical = renderUs;
            }
        }
        details["peak RSS at the end"] = PeakRss();
        details[$"managed heap after {sizes.Length * (iterations + 20)} more renders (after a full GC)"] =
            Support.BenchEnvironment.Format(GC.GetTotalMemory(forceFullCollection: true) / 1048576.0, "MB");
        return new BenchmarkResult("render", "DigestRenderer.RenderAsync, 10-paper digest", Math.Round(typical, 1), "µs",
            Target: "no target (diagnostic)", Details: details);
    }
}
