using AngleSharp.Html.Parser;
using Newsletter.Digests;
using Xunit;

namespace Newsletter.Tests.Digests;

public sealed class DigestRendererTests(RendererFixture fixture) : IClassFixture<RendererFixture>
{
    private readonly DigestRenderer _renderer = fixture.Renderer;

    [Fact]
    public async Task RenderAsync_HostileTitleAndAbstract_HtmlEncodedAndTextLiteral()
    {
        // U+FDD0 is the renderer's own marker for where the papers go; from data it must stay data.
        var paper = DigestSamples.Paper(1, "<script>alert(1)</script>", "See <img src=x onerror=alert(2)> and \"quotes\" & ampersands. A & B <c>");
        var model = DigestSamples.Model([paper], "Digest <b>bold</b> & more \uFDD0");

        var rendered = await _renderer.RenderAsync(model, TestContext.Current.CancellationToken);

        var document = new HtmlParser().ParseDocument(rendered.Html);
        Assert.Empty(document.QuerySelectorAll("script"));
        Assert.Empty(document.QuerySelectorAll("img"));
        Assert.Empty(document.QuerySelectorAll("b"));
        Assert.DoesNotContain(document.All, e => e.Attributes.Any(a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase)));
        var title = Assert.Single(document.QuerySelectorAll("h2 a"));
        Assert.Equal("<script>alert(1)</script>", title.TextContent);
        Assert.Contains("See <img src=x onerror=alert(2)> and \"quotes\" & ampersands.", document.Body!.TextContent, StringComparison.Ordinal);
        Assert.Equal("Digest <b>bold</b> & more \uFDD0", document.Title);
        Assert.Single(document.QuerySelectorAll("h2"));

        Assert.Contains("<script>alert(1)</script>", rendered.Text, StringComparison.Ordinal);
        Assert.Contains("A & B <c>", rendered.Text, StringComparison.Ordinal);
        Assert.Contains("\"quotes\" & ampersands", rendered.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("&amp;", rendered.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("&lt;", rendered.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("&quot;", rendered.Text, StringComparison.Ordinal);
        Assert.StartsWith("Digest <b>bold</b> & more \uFFFD\n", rendered.Text, StringComparison.Ordinal);
        Assert.Single(rendered.Text.Split('\n'), line => line == "Title: <script>alert(1)</script>");
    }

    [Fact]
    public async Task RenderAsync_PaperTextShapedLikeTheDigestsOwnLines_StaysIndentedUnderItsTitle()
    {
        // Wrapped at 72 columns, this title put "Unsubscribe: <link>" on a line of its own, and the abstract a rule of
        // dashes, a fake paper and "More like this: <link>" at the start of lines, where the digest's own lines are.
        var title = new string('x', 71) + " Unsubscribe: https://evil.example/u";
        var @abstract = "We study trust. " + new string('-', 70) + " " + new string('y', 72)
            + " More like this: https://evil.example/m " + new string('z', 72) + " https://evil.example/p";
        var papers = new[] { DigestSamples.Paper(1, title, @abstract), DigestSamples.Paper(2, "An honest paper", "Short.") };

        var rendered = await _renderer.RenderAsync(DigestSamples.Model(papers), TestContext.Current.CancellationToken);

        var lines = rendered.Text.Split('\n');
        // The digest's own rules: one above each paper and one above the footer.
        Assert.Equal(3, lines.Count(line => line == new string('-', 70)));
        // Every line of the paper's own text is indented, or follows the digest's label for its title.
        Assert.All(lines.Where(line => line.Contains("evil.example", StringComparison.Ordinal) || line.Contains("---", StringComparison.Ordinal)
                && line != new string('-', 70)),
            line => Assert.True(line.StartsWith(' ') || line.StartsWith("Title: ", StringComparison.Ordinal), line));
        Assert.Single(lines, line => line.StartsWith("Unsubscribe: ", StringComparison.Ordinal));
        Assert.Contains("Title: An honest paper\nhttps://papers.example.org/paper/2\n", rendered.Text, StringComparison.Ordinal);
        // Nothing of the text is lost: the words read the same once the lines are joined.
        Assert.Contains(@abstract, string.Join(' ', lines.Select(line => line.Trim())), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_SuggestionCloseToTheLineOfAReaderWhoNeverVoted_NotSaidToComeFromVotes()
    {
        // Both parts said every suggestion was "chosen from the papers you voted on", also to a reader with no vote.
        var suggestion = DigestSamples.Paper(2, "A paper the line reads close to", "Short.") with
        {
            Suggested = true, Reason = Newsletter.Digests.IssuePlanner.InterestsReason,
        };
        var papers = new[] { DigestSamples.Paper(1, "A keyword match", "Short."), suggestion };

        var rendered = await _renderer.RenderAsync(DigestSamples.Model(papers), TestContext.Current.CancellationToken);

        var note = new HtmlParser().ParseDocument(rendered.Html).QuerySelectorAll("h2").Single(h => h.TextContent == "Also for you")
            .NextElementSibling!.TextContent;
        var lines = rendered.Text.Split('\n');
        var heading = lines[Array.IndexOf(lines, "ALSO FOR YOU") + 1];
        Assert.All(new[] { note, heading }, line =>
        {
            Assert.DoesNotContain("voted", line, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("beyond your keywords", line, StringComparison.OrdinalIgnoreCase);
        });
        Assert.Contains(Newsletter.Digests.IssuePlanner.InterestsReason, rendered.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_AllSamplePapers_MessageUnderLimitWithMoreLineInOrder()
    {
        var papers = DigestSamples.SamplePapers();
        Assert.Equal(70, papers.Count);

        var rendered = await _renderer.RenderAsync(DigestSamples.Model(papers), TestContext.Current.CancellationToken);
        var message = DigestSamples.Composer().Compose(DigestSamples.Envelope(), rendered);
        using var wire = new MemoryStream();
        message.WriteTo(wire, TestContext.Current.CancellationToken);

        Assert.True(wire.Length < DigestRenderer.MaxMessageBytes, $"message is {wire.Length} bytes");
        // Blocks are encoded separately and joined: the joined parts must still be valid quoted-printable.
        var lines = System.Text.Encoding.ASCII.GetString(wire.ToArray()).ReplaceLineEndings("\n").Split('\n');
        Assert.All(lines, line => Assert.True(line.Length <= 78, line));
        Assert.Equal(rendered.Html, message.HtmlBody);
        Assert.InRange(rendered.PapersShown, 10, 69);
        // Cut close to the budget, not far below it.
        Assert.True(wire.Length > DigestRenderer.MaxMessageBytes * 0.8, $"message is only {wire.Length} bytes");

        var more = $"{70 - rendered.PapersShown} more papers matched — read them in the web copy";
        var document = new HtmlParser().ParseDocument(rendered.Html);
        var moreLink = Assert.Single(document.QuerySelectorAll("a"), a => a.TextContent == more);
        Assert.Equal(DigestSamples.Links.WebCopy, moreLink.GetAttribute("href"));
        Assert.Contains(more, rendered.Text, StringComparison.Ordinal);

        var titles = document.QuerySelectorAll("h2 a").Select(a => a.TextContent).ToList();
        Assert.Equal(papers.Take(rendered.PapersShown).Select(p => p.Title), titles);
        var textPositions = papers.Take(rendered.PapersShown).Select(p => rendered.Text.IndexOf(p.Url + "\n", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(-1, textPositions);
        Assert.Equal(textPositions.Order(), textPositions);
        Assert.DoesNotContain(papers[rendered.PapersShown].Title, rendered.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_AllSamplePapers_PreheaderCountsEveryMatchNotOnlyThoseThatFit()
    {
        var rendered = await _renderer.RenderAsync(DigestSamples.Model(DigestSamples.SamplePapers()), TestContext.Current.CancellationToken);

        // The line an inbox shows under the subject, before the mail is opened.
        var preheader = new HtmlParser().ParseDocument(rendered.Html).Body!.FirstElementChild!;
        Assert.InRange(rendered.PapersShown, 10, 69);
        Assert.Equal("70 papers matched your interests today.", preheader.TextContent);
    }

    [Fact]
    public async Task RenderAsync_IssueWithoutADate_NoEmptyDateLine()
    {
        var model = DigestSamples.Model([DigestSamples.Paper(1, "A paper", "Short.")]) with { IssueDate = null };

        var rendered = await _renderer.RenderAsync(model, TestContext.Current.CancellationToken);

        // An empty paragraph still takes its margin under the title (classes are gone once the CSS is inlined).
        var underTitle = new HtmlParser().ParseDocument(rendered.Html).QuerySelector("h1")!.NextElementSibling!;
        Assert.False(underTitle.LocalName == "p" && string.IsNullOrWhiteSpace(underTitle.TextContent), underTitle.OuterHtml);
    }

    [Theory]
    [InlineData(0, "2 papers matched your keywords today but look like ones you voted down.")]
    [InlineData(1, "2 papers matched your keywords today but look like ones you voted down; 1 more for you.")]
    public async Task RenderAsync_EveryMatchHiddenByVotes_PreheaderSaysTheyMatched(int suggestions, string expected)
    {
        var suggested = Enumerable.Range(1, suggestions).Select(i => DigestSamples.Paper(i, $"Suggestion {i}", "Short.") with { Suggested = true }).ToList();
        var model = DigestSamples.Model(suggested) with { TotalMatched = 0, HiddenMatches = 2 };

        var rendered = await _renderer.RenderAsync(model, TestContext.Current.CancellationToken);

        // Two papers did match: "No paper matched your keywords" above "2 more papers matched your keywords" was wrong.
        var preheader = new HtmlParser().ParseDocument(rendered.Html).Body!.FirstElementChild!;
        Assert.Equal(expected, preheader.TextContent);
    }

    [Fact]
    public async Task RenderAsync_TopPaperTooBigForAnyMail_ShownShortenedWithTheOthers()
    {
        // 10,000 Greek letters (the parser's limit) are about 80 KB as HTML character references and more again as
        // quoted-printable: the top paper alone was over the budget, so the mail held no paper at all.
        var greek = string.Concat(Enumerable.Range(0, 10_000).Select(i => (char)('α' + (i % 24))));
        var links = Enumerable.Range(0, 50).Select(i => $"https://github.com/lab/{new string('x', 150)}{i}").ToList();
        var huge = DigestSamples.Paper(1, "A paper in Greek", greek) with { CodeLinks = links };
        var papers = new[] { huge, DigestSamples.Paper(2, "Second paper", "Short."), DigestSamples.Paper(3, "Third paper", "Short too.") };

        var rendered = await _renderer.RenderAsync(DigestSamples.Model(papers), TestContext.Current.CancellationToken);
        var message = DigestSamples.Composer().Compose(DigestSamples.Envelope(), rendered);
        using var wire = new MemoryStream();
        message.WriteTo(wire, TestContext.Current.CancellationToken);

        Assert.Equal(3, rendered.PapersShown);
        Assert.True(wire.Length < DigestRenderer.MaxMessageBytes, $"message is {wire.Length} bytes");
        var document = new HtmlParser().ParseDocument(rendered.Html);
        Assert.Equal(["A paper in Greek", "Second paper", "Third paper"], document.QuerySelectorAll("h2 a").Select(a => a.TextContent));
        Assert.Contains(greek[..500], document.Body!.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain(greek, document.Body.TextContent, StringComparison.Ordinal);
        // The reader is told the rest is not lost, in both parts.
        Assert.Contains("… (shortened for the mail: the web copy has it whole)", document.Body.TextContent, StringComparison.Ordinal);
        Assert.Contains("… (shortened for the mail: the web copy has it whole)", rendered.Text.Replace("\n", " ", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_FewPapers_AllShownWithoutMoreLineAndWithFooterLinks()
    {
        var papers = DigestSamples.SamplePapers().Take(3).ToList();

        var rendered = await _renderer.RenderAsync(DigestSamples.Model(papers), TestContext.Current.CancellationToken);

        Assert.Equal(3, rendered.PapersShown);
        Assert.DoesNotContain("more paper", rendered.Html, StringComparison.Ordinal);
        var document = new HtmlParser().ParseDocument(rendered.Html);
        Assert.Equal("en", document.DocumentElement.GetAttribute("lang"));
        var links = document.QuerySelectorAll("a").ToDictionary(a => a.TextContent.Trim(), a => a.GetAttribute("href"));
        Assert.Equal(DigestSamples.Links.WebCopy, links["View it in your browser"]);
        Assert.Equal(DigestSamples.Links.Manage, links["Manage your keywords"]);
        Assert.Equal(DigestSamples.Links.Unsubscribe, links["Unsubscribe"]);
        Assert.Contains("Tuesday, 11 March 2025", document.Body!.TextContent, StringComparison.Ordinal);
        Assert.Contains("https://github.com/innerlee/GCR", links.Values);

        Assert.Contains("View in your browser: " + DigestSamples.Links.WebCopy, rendered.Text, StringComparison.Ordinal);
        Assert.Contains("Unsubscribe: " + DigestSamples.Links.Unsubscribe, rendered.Text, StringComparison.Ordinal);
        Assert.Contains("Manage your keywords: " + DigestSamples.Links.Manage, rendered.Text, StringComparison.Ordinal);
        Assert.Contains("Code: https://github.com/innerlee/GCR\n", rendered.Text, StringComparison.Ordinal);
        Assert.All(rendered.Text.Split('\n'), line => Assert.True(line.Length <= 72 || line.Contains("https://", StringComparison.Ordinal), line));
    }

    [Fact]
    public async Task RenderAsync_HighlightSpans_MarkedInHtmlAndMatchedLineListsTerms()
    {
        var paper = DigestSamples.Paper(7, "Low-rank diffusion models", "We adapt diffusion models with low-rank updates.") with
        {
            MatchedTerms = ["diffusion", "low-rank"],
            TitleHighlights = [new(0, 8), new(9, 9)],
            AbstractHighlights = [new(31, 8), new(9, 9), new(33, 2), new(500, 3)],
        };

        var rendered = await _renderer.RenderAsync(DigestSamples.Model([paper]), TestContext.Current.CancellationToken);

        var document = new HtmlParser().ParseDocument(rendered.Html);
        Assert.Equal(["Low-rank", "diffusion", "diffusion", "low-rank"], document.QuerySelectorAll("mark").Select(m => m.TextContent));
        Assert.Equal("Low-rank diffusion models", document.QuerySelector("h2 a")!.TextContent);
        Assert.Contains("Matched: diffusion, low-rank", document.Body!.TextContent, StringComparison.Ordinal);
        Assert.Contains("Matched: diffusion, low-rank", rendered.Text, StringComparison.Ordinal);
        Assert.All(document.QuerySelectorAll("mark"), m => Assert.Contains("background-color", m.GetAttribute("style") ?? "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RenderAsync_Html_CssInlinedWithoutStylesheetsOrScripts()
    {
        var rendered = await _renderer.RenderAsync(DigestSamples.Model(DigestSamples.SamplePapers().Take(2).ToList()), TestContext.Current.CancellationToken);

        var document = new HtmlParser().ParseDocument(rendered.Html);
        Assert.Empty(document.QuerySelectorAll("link, style, script"));
        Assert.All(document.QuerySelectorAll("body, table, h1, h2, h2 a, p, mark"), e => Assert.False(string.IsNullOrEmpty(e.GetAttribute("style")), e.OuterHtml[..Math.Min(80, e.OuterHtml.Length)]));
        Assert.Contains("font-size: 17px", document.QuerySelector("h2")!.GetAttribute("style"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_ConcurrentRenders_EachGetsItsOwnDigest()
    {
        var papers = DigestSamples.SamplePapers();
        var models = Enumerable.Range(0, 16).Select(i => DigestSamples.Model(papers.Skip(i).Take(2).ToList(), $"Issue {i}")).ToList();

        var results = await Task.WhenAll(models.Select(m => Task.Run(() => _renderer.RenderAsync(m, TestContext.Current.CancellationToken), TestContext.Current.CancellationToken)));

        for (var i = 0; i < models.Count; i++)
        {
            Assert.Contains($"<title>Issue {i}</title>", results[i].Html, StringComparison.Ordinal);
            Assert.Equal(2, results[i].PapersShown);
            Assert.Contains(papers[i].Url + "\"", results[i].Html, StringComparison.Ordinal);
            Assert.Contains(papers[i].Url + "\n", results[i].Text, StringComparison.Ordinal);
        }
    }
}
