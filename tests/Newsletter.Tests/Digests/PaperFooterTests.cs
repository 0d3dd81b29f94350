using AngleSharp.Html.Parser;
using Newsletter.Digests;
using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.Tests.Digests;

/// <summary>The reader's own lines under each paper: why it is there, and vote links signed for one delivery and paper.</summary>
public sealed class PaperFooterTests(RendererFixture fixture) : IClassFixture<RendererFixture>
{
    private const string Site = "https://papers.lab.example.org/";

    private static readonly DigestLinkKeys Keys = new(new Dictionary<byte, byte[]> { [1] = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray() });

    private readonly DigestRenderer _renderer = fixture.Renderer;

    [Fact]
    public async Task RenderAsync_TwoDeliveriesOfTheSamePapers_EachFooterLinkSignedForItsDeliveryAndPaper()
    {
        var ct = TestContext.Current.CancellationToken;
        var samples = DigestSamples.SamplePapers().Take(3).ToList();

        foreach (var deliveryId in new long[] { 11, 12 })
        {
            var tokens = Keys.Mint(deliveryId);
            var papers = samples.Select((p, i) => p with
            {
                Reason = i == 1 ? "like «Attention» you liked" : null,
                Votes = new VoteLinks(Site + "vote/" + tokens.Vote(p.PaperId, more: true), Site + "vote/" + tokens.Vote(p.PaperId, more: false)),
            }).ToList();

            var rendered = await _renderer.RenderAsync(DigestSamples.Model(papers), ct);

            var document = new HtmlParser().ParseDocument(rendered.Html);
            var votes = document.QuerySelectorAll("a").Where(a => a.TextContent.EndsWith(" like this", StringComparison.Ordinal))
                .Select(a => (a.TextContent, Vote(a.GetAttribute("href")!))).ToList();
            var expected = papers.SelectMany(p => new[] { ("More like this", (deliveryId, p.PaperId, true)), ("Less like this", (deliveryId, p.PaperId, false)) });
            Assert.Equal(expected, votes);
            Assert.Single(document.QuerySelectorAll("span"), span => span.TextContent == "like «Attention» you liked");
            foreach (var paper in papers)
            {
                Assert.Contains($"\nMore like this: {paper.Votes!.More}\nLess like this: {paper.Votes!.Less}\n", rendered.Text, StringComparison.Ordinal);
            }
            Assert.Contains("\nlike «Attention» you liked\nMore like this: ", rendered.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RenderAsync_LinksAndReasonNeedingEncoding_FootersAsTheTemplateWritesThem()
    {
        var paper = DigestSamples.Paper(5, "A paper", "Its abstract.") with
        {
            Reason = "like «<b>Q&A</b>» you liked",
            Votes = new VoteLinks(Site + "vote/a+b&c=\"d\"", Site + "vote/less-<e>"),
        };
        var preview = DigestSamples.Paper(6, "A preview", "No votes here.") with { Reason = "because" };

        var rendered = await _renderer.RenderAsync(DigestSamples.Model([paper, preview]), TestContext.Current.CancellationToken);

        // As the template rendered them for each paper of each digest, before footers were rendered once and filled in.
        const string Paragraph = "<p style=\"margin: 6px 0 22px 0;padding: 0 0 18px 0;border-bottom: 1px solid #d8dee4;font-size: 13px;color: #57606a\">";
        const string Reason = "<span style=\"color: #57606a;font-style: italic\">";
        Assert.Contains(
            Paragraph + Reason + "like &#xAB;&lt;b&gt;Q&amp;A&lt;/b&gt;&#xBB; you liked</span><br>"
            + "<a href=\"https://papers.lab.example.org/vote/a&#x2B;b&amp;c=&quot;d&quot;\" style=\"color: #0b57d0\">More like this</a> · "
            + "<a href=\"https://papers.lab.example.org/vote/less-&lt;e&gt;\" style=\"color: #0b57d0\">Less like this</a></p>\n",
            rendered.Html, StringComparison.Ordinal);
        Assert.Contains(Paragraph + Reason + "because</span><br></p>\n", rendered.Html, StringComparison.Ordinal);
        Assert.Contains(
            "\n\nlike «<b>Q&A</b>» you liked\nMore like this: https://papers.lab.example.org/vote/a+b&c=\"d\"\nLess like this: https://papers.lab.example.org/vote/less-<e>\n\n",
            rendered.Text, StringComparison.Ordinal);
        Assert.Contains("\n\nbecause\n\n", rendered.Text, StringComparison.Ordinal);
        Assert.Single(rendered.Text.Split('\n'), line => line.StartsWith("More like this", StringComparison.Ordinal));
    }

    private static (long DeliveryId, long PaperId, bool More) Vote(string href)
    {
        Assert.StartsWith(Site + "vote/", href, StringComparison.Ordinal);
        Assert.True(Keys.TryVerifyVote(href[(Site.Length + 5)..], out var deliveryId, out var paperId, out var more));
        return (deliveryId, paperId, more);
    }
}
