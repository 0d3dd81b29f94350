using System.Text;
using MimeKit;
using Newsletter.Inbox;

namespace Newsletter.Tests.Inbox;

/// <summary>Text parts whose charset label is unknown or wrong: read as well as can be, and noted for the operator.</summary>
public sealed class TrendingEmailParserCharsetTests
{
    private static string Headers(string charset) => $"""
        From: papers@notifications.huggingface.co
        Subject: Trending papers
        Date: Tue, 11 Mar 2025 14:02:31 +0000
        MIME-Version: 1.0
        Content-Type: text/plain; charset="{charset}"
        Content-Transfer-Encoding: 8bit

        """;

    private static string Listing => "Mar 11\n\nCafé Résumé Networks\n\n" + Listings.ExpectedPapers[0].Abstract + "\n";

    [Fact]
    public void Parse_UnknownCharsetOverUtf8_ReadsUtf8AndNotesIt()
    {
        var listing = Listings.Parse(Listings.LoadRaw(Headers("x-mac-klingon"), Encoding.UTF8.GetBytes(Listing)));

        Assert.Equal("Café Résumé Networks", Assert.Single(listing.Papers).Title);
        Assert.Equal(["a text/plain part declares charset \"x-mac-klingon\", which is unknown: read as UTF-8"], listing.Notes);
    }

    [Fact]
    public void Parse_UnknownCharsetOverLatin1_ReadsLatin1AndNotesIt()
    {
        var listing = Listings.Parse(Listings.LoadRaw(Headers("x-mac-klingon"), Encoding.Latin1.GetBytes(Listing)));

        Assert.Equal("Café Résumé Networks", Assert.Single(listing.Papers).Title);
        Assert.Equal(["a text/plain part declares charset \"x-mac-klingon\", which is unknown: read as Latin-1 (windows-1252)"], listing.Notes);
    }

    [Fact]
    public void Parse_Latin1BytesDeclaredAsUtf8_NotesTheFallback()
    {
        var listing = Listings.Parse(Listings.LoadRaw(Headers("utf-8"), Encoding.Latin1.GetBytes(Listing)));

        Assert.Equal("Café Résumé Networks", Assert.Single(listing.Papers).Title);
        Assert.Equal(["a text/plain part is not valid utf-8: read as Latin-1 (windows-1252)"], listing.Notes);
    }

    [Fact]
    public void Parse_HostileCharsetLabel_IsNotedPrintableAndShort()
    {
        var label = "x-" + new string('k', 200) + "\u0007";

        var listing = Listings.Parse(Listings.LoadRaw(Headers(label), Encoding.UTF8.GetBytes(Listing)));

        var note = Assert.Single(listing.Notes);
        Assert.Contains("\"x-" + new string('k', 38) + "…\"", note, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SampleInItsDeclaredCharset_HasNoNotes()
    {
        Assert.Empty(Listings.Parse(Listings.LoadSample()).Notes);
    }
}
