using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;
using Newsletter.Digests;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Support;
using Newsletter.Mail;
using Xunit;

namespace Newsletter.IntegrationTests.Digests;

/// <summary>
/// The digest's HTML as a reader's mail app lays it out: real Chromium at a phone's width and at a desktop's. The CSS is
/// inlined and the classes gone, as in the mail: elements are found by structure (the layout's inner table is the column).
/// </summary>
public sealed class DigestLayoutBrowserTests
{
    [Fact]
    public async Task DigestHtml_InPhoneWidthWindow_IsNoWiderThanTheWindow()
    {
        var html = await SampleDigestHtmlAsync();
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(new Uri("http://localhost/"));
        await page.SetViewportSizeAsync(375, 800);
        await page.SetContentAsync(html);
        await Browser.ScreenshotAsync(page, "digest-375px");

        var pageWidth = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
        var bodyFont = await page.EvaluateAsync<double>("Math.min(...[...document.querySelectorAll('p')].filter(p => p.textContent.length > 200).map(p => parseFloat(getComputedStyle(p).fontSize)))");
        Assert.True(pageWidth <= 375, $"the digest is {pageWidth} px wide in a 375 px window");
        Assert.True(bodyFont >= 14, $"abstracts are set in {bodyFont} px type");
    }

    [Fact]
    public async Task DigestHtml_AtDesktopWidth_KeepsItsReadingColumn()
    {
        var html = await SampleDigestHtmlAsync();
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(new Uri("http://localhost/"));
        await page.SetViewportSizeAsync(1024, 800);
        await page.SetContentAsync(html);
        await Browser.ScreenshotAsync(page, "digest-1024px");

        var column = await page.EvaluateAsync<int>("document.querySelector('table[role=presentation] table[role=presentation]').getBoundingClientRect().width");
        var pageWidth = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
        Assert.Equal(640, column);
        Assert.True(pageWidth <= 1024, $"the digest is {pageWidth} px wide in a 1024 px window");
    }

    /// <summary>The real sample listing's first ten papers with their code links, rendered and composed as a digest is.</summary>
    private static async Task<string> SampleDigestHtmlAsync()
    {
        var listing = new TrendingEmailParser().Parse(Samples.SampleMessage());
        var papers = listing.Papers.Take(10).Select((p, i) =>
            new DigestPaper(i + 1, p.Title, p.Abstract, $"https://arxiv.org/abs/{p.ArxivId ?? "2503.0000" + i}", p.Links, ["learning"], 10 - i)).ToList();
        var links = new DigestLinks("https://papers.example.org/digest/tok", "https://papers.example.org/manage/tok", "https://papers.example.org/unsubscribe/tok");
        using var renderer = new DigestRenderer(new EmailTemplates(Options.Create(new TemplateOptions()), NullLogger<EmailTemplates>.Instance));
        var rendered = await renderer.RenderAsync(new DigestModel(new DateOnly(2025, 3, 11), "Trending papers", "ada@example.org", papers, papers.Count, links), Ct);
        var composer = new DigestComposer(new OutgoingMail(Options.Create(new MailOptions { From = "Papers <digest@papers.example.org>", ListId = "papers.example.org" }), TimeProvider.System));
        var message = composer.Compose(new DigestEnvelope("ada@example.org", 1, 1, 1, "Trending papers", links), rendered);
        return message.HtmlBody ?? throw new InvalidOperationException("The digest has no HTML part.");
    }
}
