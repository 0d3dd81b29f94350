using System.Text;
using MimeKit;
using Newsletter.Inbox;

namespace Newsletter.Tests.Inbox;

public sealed class TrendingEmailParserHostileTests
{
    [Fact]
    public void Parse_HugeSingleLine_YieldsNoPapersWithoutThrowing()
    {
        var text = "Mar 11\n\nTitle\n\n" + new string('x', 6 * 1024 * 1024);

        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message(text, ContentEncoding.Base64)));

        Assert.Empty(listing.Papers);
    }

    [Fact]
    public void Parse_ListingPastThePartCap_KeepsThePapersBeforeTheCut()
    {
        var builder = new StringBuilder("Mar 11\n\n");
        for (var i = 0; builder.Length < 3 * TrendingEmailParser.MaxPartBytes; i++)
        {
            builder.Append("Paper Number ").Append(i).Append(" Of A Very Long Listing Ünïcödé\n\n").Append(Listings.ExpectedPapers[0].Abstract).Append("\n\n");
        }

        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message(builder.ToString(), ContentEncoding.EightBit)));

        Assert.Equal(ListingReader.MaxPapers, listing.Papers.Count);
        Assert.Equal("Paper Number 0 Of A Very Long Listing Ünïcödé", listing.Papers[0].Title);
    }

    [Fact]
    public void Parse_PartLongerThanTheCap_SaysPapersAfterTheCutWereNotRead()
    {
        var huge = string.Concat(Enumerable.Repeat("representation learning ", TrendingEmailParser.MaxPartBytes / 20));
        var text = "Mar 11\n\nFirst Paper\n\n" + Listings.ExpectedPapers[0].Abstract + "\n\nHuge Paper\n\n" + huge
            + "\n\nLast Paper\n\n" + Listings.ExpectedPapers[1].Abstract + "\n";

        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message(text, ContentEncoding.Base64)));

        Assert.DoesNotContain(listing.Papers, p => p.Title == "Last Paper");
        var note = Assert.Single(listing.Notes);
        Assert.Equal($"a text/plain part is longer than {TrendingEmailParser.MaxPartBytes:N0} bytes: what follows is not read", note);
    }

    [Fact]
    public void Parse_LongAbstract_IsCappedAtAWordBoundary()
    {
        var words = string.Concat(Enumerable.Repeat("representation learning ", 2_000)) + "end.";
        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message("Mar 11\n\nA Long One\n\n" + words)));

        var paper = Assert.Single(listing.Papers);
        Assert.InRange(paper.Abstract.Length, ListingReader.MaxAbstractChars - 200, ListingReader.MaxAbstractChars);
        Assert.Matches("(representation|learning)$", paper.Abstract);
    }

    [Fact]
    public void Parse_DeeplyNestedMultiparts_DoesNotThrow()
    {
        var raw = new StringBuilder("From: a@b.example\r\nDate: Tue, 11 Mar 2025 14:02:31 +0000\r\nMIME-Version: 1.0\r\n");
        const int depth = 2_000;
        for (var i = 0; i < depth; i++)
        {
            raw.Append("Content-Type: multipart/mixed; boundary=\"b").Append(i).Append("\"\r\n\r\n--b").Append(i).Append("\r\n");
        }

        raw.Append("Content-Type: text/plain\r\n\r\nMar 11\r\n\r\nDeep Title\r\n\r\n").Append(Listings.ExpectedPapers[0].Abstract).Append("\r\n");
        for (var i = depth - 1; i >= 0; i--)
        {
            raw.Append("--b").Append(i).Append("--\r\n");
        }

        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(raw.ToString()));
        var message = TrendingEmailParser.Load(stream, TrendingEmailParser.DefaultMaxMessageBytes, TestContext.Current.CancellationToken);

        var listing = Listings.Parse(message);

        Assert.Empty(listing.Papers);
        Assert.Equal("a@b.example", listing.From);
    }

    [Fact]
    public void Parse_BinaryGarbage_YieldsNoPapersWithoutThrowing()
    {
        var garbage = new byte[256 * 1024];
        new Random(11).NextBytes(garbage);
        var headers = """
            From: a@b.example
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: binary

            """;

        var listing = Listings.Parse(Listings.LoadRaw(headers, garbage));

        Assert.Empty(listing.Papers);
    }

    [Fact]
    public void Parse_ControlCharactersAndLoneSurrogatesInTitle_AreCleaned()
    {
        var text = "Mar 11\n\nClean\u0007 Title\u200B With\u00A0Spaces\uD800\n\n" + Listings.ExpectedPapers[0].Abstract + "\n";

        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message(text, ContentEncoding.Base64)));

        Assert.Equal("Clean Title With Spaces\uFFFD", Assert.Single(listing.Papers).Title);
    }
}
