using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Digests;
using Xunit;
using Newsletter.Mail;

namespace Newsletter.Tests.Digests;

/// <summary>One renderer for the test run: compiling the templates takes seconds, rendering microseconds.</summary>
public sealed class RendererFixture
{
    public RendererFixture() => Renderer = new DigestRenderer(Templates);

    public EmailTemplates Templates { get; } = new(Options.Create(new TemplateOptions()), NullLogger<EmailTemplates>.Instance);

    public DigestRenderer Renderer { get; }
}

internal static class DigestSamples
{
    public static readonly DigestLinks Links = new(
        "https://papers.lab.example.org/issues/2025-03-11/web/tok-web",
        "https://papers.lab.example.org/manage/tok-manage",
        "https://papers.lab.example.org/unsubscribe/tok-unsub");

    /// <summary>The 70 papers of the sample listing: pairs of paragraphs (title, abstract) after the "Mar 11" line.</summary>
    public static IReadOnlyList<DigestPaper> SamplePapers()
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "trending-papers-2025-03-11.txt"))
            .ReplaceLineEndings("\n");
        var paragraphs = text[(text.IndexOf("\nMar 11\n", StringComparison.Ordinal) + 8)..]
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return paragraphs.Chunk(2)
            .Select((pair, i) => new DigestPaper(
                i + 1,
                pair[0],
                pair[1],
                $"https://papers.example.org/paper/{i + 1}",
                pair[1].Split(' ').Where(w => w.StartsWith("https://github.com/", StringComparison.Ordinal)).Select(w => w.TrimEnd('.', ',')).ToList(),
                ["learning"],
                100 - i))
            .ToList();
    }

    public static DigestModel Model(IReadOnlyList<DigestPaper> papers, string subject = "Your papers for 11 March 2025") =>
        new(new DateOnly(2025, 3, 11), subject, "ada@example.org", papers, papers.Count, Links);

    public static DigestPaper Paper(long id, string title, string @abstract) =>
        new(id, title, @abstract, $"https://papers.example.org/paper/{id}", [], [], 1.0);

    /// <summary>A composer with the plainest valid mail settings, its clock fixed on the sample's morning.</summary>
    public static DigestComposer Composer() =>
        new(new OutgoingMail(Options.Create(new MailOptions { From = "Newsletter <digest@lab.example.org>", ListId = "papers.lab.example.org" }),
            new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 7, 0, 0, TimeSpan.Zero))));

    public static DigestEnvelope Envelope() =>
        new("ada@example.org", 42, 7, 1, "Your papers for 11 March 2025", Links);
}
