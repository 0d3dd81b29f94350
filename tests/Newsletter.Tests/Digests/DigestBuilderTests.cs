using AngleSharp.Html.Parser;
using Microsoft.Extensions.Options;
using Newsletter.Digests;
using Newsletter.Hosting;
using Newsletter.Papers;
using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.Tests.Digests;

/// <summary>Paper blocks are rendered once and shared between digests; what each subscriber sees must stay their own.</summary>
public sealed class DigestBuilderTests(RendererFixture fixture) : IClassFixture<RendererFixture>
{
    private static readonly IssueSummary Issue = new(42, new DateOnly(2025, 3, 11), "Trending papers, 11 March", 2, DateTimeOffset.UnixEpoch);

    private static readonly IssuePaper VideoPaper = new(1, 1, "Diffusion transformers for video", "We scale diffusion transformers to long video.", "2501.00001", []);

    private static readonly IssuePaper AttentionPaper = new(2, 2, "Sparse attention", "Attention layers built from sparse transformers.", null, []);

    [Fact]
    public async Task BuildAsync_SubscribersSharingAPaper_EachSeesTheirOwnHighlightsAndLinks()
    {
        using var renderer = new DigestRenderer(fixture.Templates);
        var builder = Builder(renderer);
        var content = new IssueContent(Issue, [VideoPaper, AttentionPaper]);
        var ct = TestContext.Current.CancellationToken;

        var diffusion = await builder.BuildAsync(content, Recipient(1, "diffusion", [1]), ct);
        var transformers = await builder.BuildAsync(content, Recipient(2, "transformers", [1, 2]), ct);
        var diffusionAgain = await builder.BuildAsync(content, Recipient(3, "diffusion", [1]), ct);

        Assert.Equal(["Diffusion", "diffusion"], Marks(diffusion));
        Assert.Equal(["transformers", "transformers", "transformers"], Marks(transformers));
        Assert.Equal(Marks(diffusion), Marks(diffusionAgain));
        Assert.Contains("Matched: transformers", transformers.TextBody, StringComparison.Ordinal);
        Assert.Contains("Matched: diffusion", diffusionAgain.TextBody, StringComparison.Ordinal);
        // The third digest reused the first one's block (same paper, same matched term) and still carries its own links.
        Assert.True(renderer.BlockCacheStatistics!.TotalHits >= 1, "the shared block was rendered again");
        Assert.Contains("https://papers.lab.example.org/unsubscribe/unsubscribe-3", diffusionAgain.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("unsubscribe-1", diffusionAgain.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("reader3@example.org", diffusionAgain.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildAsync_PaperGainedACodeLink_NextBatchShowsIt()
    {
        using var renderer = new DigestRenderer(fixture.Templates);
        var builder = Builder(renderer);
        var ct = TestContext.Current.CancellationToken;
        var before = await builder.BuildAsync(new IssueContent(Issue, [VideoPaper]), Recipient(1, "diffusion", [1]), ct);

        // A later listing added the code link to the same paper; the next batch loads the issue again.
        var updated = VideoPaper with { Links = ["https://github.com/lab/video-diffusion"] };
        var after = await builder.BuildAsync(new IssueContent(Issue, [updated]), Recipient(1, "diffusion", [1]), ct);

        Assert.DoesNotContain("github.com/lab/video-diffusion", before.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("href=\"https://github.com/lab/video-diffusion\"", after.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("Code: https://github.com/lab/video-diffusion", after.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildAsync_PlannedPaperNoLongerMatches_ShownWithoutHighlightsOrMatchedLine()
    {
        using var renderer = new DigestRenderer(fixture.Templates);
        var builder = Builder(renderer);
        var content = new IssueContent(Issue, [VideoPaper]);
        var ct = TestContext.Current.CancellationToken;

        // A re-send of an older plan: the subscriber has since excluded video papers; "diffusion" still occurs.
        var excluded = await builder.BuildAsync(content, Recipient(1, "diffusion -video", [1]), ct);
        var unrelated = await builder.BuildAsync(content, Recipient(2, "sparse", [1]), ct);

        Assert.Empty(Marks(excluded));
        Assert.Empty(Marks(unrelated));
        Assert.Contains("Diffusion transformers for video", excluded.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("Matched:", excluded.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildAsync_StoredLineNoLongerParses_ThePlannedPapersWithoutHighlights()
    {
        using var renderer = new DigestRenderer(fixture.Templates);
        var builder = Builder(renderer);
        var content = new IssueContent(Issue, [VideoPaper, AttentionPaper]);
        var ct = TestContext.Current.CancellationToken;

        var diffusion = await builder.BuildAsync(content, Recipient(1, "diffusion", [1]), ct);
        var unreadable = await builder.BuildAsync(content, Recipient(2, "diffusion \"low rank", [1, 2]), ct);

        Assert.NotEmpty(Marks(diffusion));
        Assert.Empty(Marks(unreadable));
        Assert.Contains("Diffusion transformers for video", unreadable.TextBody, StringComparison.Ordinal);
        Assert.Contains("Sparse attention", unreadable.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("Matched:", unreadable.TextBody, StringComparison.Ordinal);
    }

    private static DigestBuilder Builder(DigestRenderer renderer) =>
        new(renderer, DigestSamples.Composer(), Options.Create(new SiteOptions { PublicBaseUrl = "https://papers.lab.example.org" }));

    private static DigestRecipient Recipient(long id, string interests, long[] paperIds) =>
        new(id, $"reader{id}@example.org", interests, 1, paperIds, new DeliveryTokens($"manage-{id}", $"unsubscribe-{id}", $"view-{id}"));

    private static List<string> Marks(MimeKit.MimeMessage message) =>
        new HtmlParser().ParseDocument(message.HtmlBody ?? "").QuerySelectorAll("mark").Select(m => m.TextContent).ToList();
}
