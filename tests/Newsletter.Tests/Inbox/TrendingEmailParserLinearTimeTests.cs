using System.Net;
using System.Text;
using MimeKit;
using Newsletter.Inbox;

namespace Newsletter.Tests.Inbox;

/// <summary>
/// Inputs that once made parsing exponential or quadratic, large enough that a super-linear parse would take minutes
/// (300,000 closing parentheses took 30 s when trimming was quadratic; these have a million). Each parses within
/// <see cref="Listings.HangGuard"/> (the test fails with <see cref="ParseTimeoutException"/> otherwise) and gives what a
/// reader of the mail would expect.
/// </summary>
public sealed class TrendingEmailParserLinearTimeTests
{
    private static (string Title, string Abstract) First => Listings.ExpectedPapers[0];

    private static (string Title, string Abstract) Second => Listings.ExpectedPapers[1];

    private static string[] ExpectedTitles => [Listings.Expected(First.Title), Listings.Expected(Second.Title)];

    [Fact]
    public void Parse_LinkFollowedBySixtyRepeatedSchemesAndAWord_KeepsThePapers()
    {
        var hostile = "https://a.example/" + string.Concat(Enumerable.Repeat("http://", 60)) + " word";
        var text = $"Mar 11\n\n{First.Title}\n\n{First.Abstract}\n\n{hostile}\n\n{Second.Title}\n\n{Second.Abstract}\n";

        var listing = Listings.ParseWithinBudget(Listings.RoundTrip(Listings.Message(text)));

        Assert.Equal(ExpectedTitles, listing.Papers.Select(p => p.Title));
    }

    [Fact]
    public void Parse_LinkEndingInManyClosingParentheses_KeepsTheLinkWithoutThem()
    {
        var text = $"Mar 11\n\n{First.Title}\n\n{First.Abstract} Code: https://github.com/a/b{new string(')', 1_000_000)}\n";

        var listing = Listings.ParseWithinBudget(Listings.RoundTrip(Listings.Message(text, ContentEncoding.Base64)));

        Assert.Equal(["https://github.com/a/b"], Assert.Single(listing.Papers).Links);
    }

    [Fact]
    public void Parse_ManyCounterLinesAboveATitle_KeepsThePaper()
    {
        var counters = string.Concat(Enumerable.Repeat("42\n", 300_000));
        var text = $"Mar 11\n\n{counters}{First.Title}\n\n{First.Abstract}\n";

        var listing = Listings.ParseWithinBudget(Listings.RoundTrip(Listings.Message(text, ContentEncoding.Base64)));

        Assert.Equal(Listings.Expected(First.Title), Assert.Single(listing.Papers).Title);
    }

    [Fact]
    public void Parse_ManyLinkParagraphsBeforeATitle_GivesThePaperTheFirstFiftyInOrder()
    {
        var links = new StringBuilder();
        for (var i = 0; links.Length < 1_900_000; i++)
        {
            links.Append("https://a.example/").Append(i).Append("\n\n");
        }
        var text = $"Mar 11\n\n{links}{First.Title}\n\n{First.Abstract}\n\nhttps://b.example/\n\n{Second.Title}\n\n{Second.Abstract}\n";

        var listing = Listings.ParseWithinBudget(Listings.RoundTrip(Listings.Message(text, ContentEncoding.Base64)));

        Assert.Equal(ExpectedTitles, listing.Papers.Select(p => p.Title));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"https://a.example/{i}"), listing.Papers[0].Links);
        Assert.Equal("https://b.example/", listing.Papers[1].Links[^1]);
    }

    [Fact]
    public void Parse_AbstractWithAFloodOfCombiningMarks_KeepsThePaper()
    {
        var flood = "e" + new string('\u0301', 100_000) + new string('\u0334', 100_000);
        var text = $"Mar 11\n\n{First.Title}\n\n{First.Abstract} {flood}\n";

        var listing = Listings.ParseWithinBudget(Listings.RoundTrip(Listings.Message(text, ContentEncoding.Base64)));

        var paper = Assert.Single(listing.Papers);
        Assert.Equal(Listings.Expected(First.Title), paper.Title);
        Assert.StartsWith(Listings.Expected(First.Abstract), paper.Abstract, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HtmlNestedAHundredThousandDeep_KeepsThePapers()
    {
        var html = string.Concat(Enumerable.Repeat("<div>", 100_000)) + HtmlPapers();

        var listing = Listings.ParseWithinBudget(Listings.HtmlMessage(html));

        Assert.Equal(ExpectedTitles, listing.Papers.Select(p => p.Title));
    }

    [Fact]
    public void Parse_HtmlWithFiftyThousandUnclosedFormattingElements_KeepsThePapers()
    {
        var html = string.Concat(Enumerable.Range(0, 50_000).Select(i => $"<b id=\"b{i}\">·")) + "<p></p>" + HtmlPapers();

        var listing = Listings.ParseWithinBudget(Listings.HtmlMessage(html));

        Assert.Equal(ExpectedTitles, listing.Papers.Select(p => p.Title));
    }

    [Fact]
    public void Parse_HtmlWithAHundredThousandSiblingParagraphs_KeepsThePapers()
    {
        var html = "<body>" + string.Concat(Enumerable.Repeat("<p>·</p>", 100_000)) + HtmlPapers() + "</body>";

        var listing = Listings.ParseWithinBudget(Listings.HtmlMessage(html));

        Assert.Equal(ExpectedTitles, listing.Papers.Select(p => p.Title));
    }

    [Fact]
    public void Parse_BudgetOfOneTick_ThrowsParseTimeoutException()
    {
        var sample = Listings.LoadSample();

        var thrown = Assert.Throws<ParseTimeoutException>(() =>
            new TrendingEmailParser().Parse(sample, TimeSpan.FromTicks(1), TestContext.Current.CancellationToken));

        Assert.Equal(TimeSpan.FromTicks(1), thrown.Budget);
    }

    private static string HtmlPapers() =>
        $"<p>Mar 11</p><h3>{E(First.Title)}</h3><p>{E(First.Abstract)}</p><h3>{E(Second.Title)}</h3><p>{E(Second.Abstract)}</p>";

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
