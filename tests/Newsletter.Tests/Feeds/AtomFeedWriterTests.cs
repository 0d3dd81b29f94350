using System.Text;
using System.Xml.Linq;
using Newsletter.Feeds;
using Newsletter.Papers;

namespace Newsletter.Tests.Feeds;

public sealed class AtomFeedWriterTests
{
    private static readonly Uri Site = new("https://papers.example.org/");
    private static readonly XNamespace Atom = "http://www.w3.org/2005/Atom";
    private static readonly DateTimeOffset Day = new(2025, 3, 11, 14, 2, 0, TimeSpan.Zero);

    [Fact]
    public void Write_SameEntriesTwice_SameBytesAndETag()
    {
        var first = AtomFeedWriter.Write(Header(), "Digest", Site, [Entry(1, "A paper"), Entry(2, "Another")]);
        var second = AtomFeedWriter.Write(Header(), "Digest", Site, [Entry(1, "A paper"), Entry(2, "Another")]);
        var changed = AtomFeedWriter.Write(Header(), "Digest", Site, [Entry(1, "A paper")]);

        Assert.Equal(first.Bytes, second.Bytes);
        Assert.Equal(first.ETag, second.ETag);
        Assert.NotEqual(first.ETag, changed.ETag);
        Assert.Equal(Day, first.LastModified);
    }

    [Fact]
    public void Write_Entry_TagIdAlternateLinkAndAbstractAsSummary()
    {
        var feed = Read(AtomFeedWriter.Write(Header(), "Digest", Site, [Entry(42, "Low-rank adapters", "2503.01234v1", ["https://github.com/lab/code", "not a link"])]));
        var entry = Assert.Single(feed.Elements(Atom + "entry"));

        Assert.Equal("tag:papers.example.org,2025:paper/42", entry.Element(Atom + "id")?.Value);
        Assert.Equal("Low-rank adapters", entry.Element(Atom + "title")?.Value);
        Assert.Equal("https://arxiv.org/abs/2503.01234v1", Link(entry, "alternate"));
        Assert.Equal("https://github.com/lab/code", Link(entry, "related"));
        Assert.Equal("https://papers.example.org/issues/7", Link(entry, "via"));
        Assert.Equal("The abstract of Low-rank adapters.", entry.Element(Atom + "summary")?.Value);
        Assert.Equal("2025-03-11T14:02:00Z", entry.Element(Atom + "updated")?.Value);
        Assert.Equal("Digest", feed.Element(Atom + "author")?.Element(Atom + "name")?.Value);
        Assert.Equal("https://papers.example.org/feeds/secret", Link(feed, "self"));
    }

    [Fact]
    public void Write_NoEntries_UpdatedIsTheHeadersDate()
    {
        var since = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

        var document = AtomFeedWriter.Write(Header() with { EmptyUpdated = since }, "Digest", Site, []);

        Assert.Equal(since, document.LastModified);
        Assert.Empty(Read(document).Elements(Atom + "entry"));
    }

    [Fact]
    public void Write_ControlCharactersInListingText_LeftOutSoTheXmlStaysWellFormed()
    {
        var document = AtomFeedWriter.Write(Header(), "Digest", Site, [Entry(1, "Bad\u0001 title \U0001F600")]);

        Assert.Equal("Bad title \U0001F600", Read(document).Element(Atom + "entry")?.Element(Atom + "title")?.Value);
    }

    private static FeedHeader Header() => new("tag:papers.example.org,2025:reader/1", "Digest", "Your papers",
        new Uri("https://papers.example.org/feeds/secret"), Site, Day);

    private static FeedEntry Entry(long id, string title, string arxivId = "2503.00001", string[]? links = null) =>
        new(new IssuePaper(id, 1, title, $"The abstract of {title}.", arxivId, links ?? []), Day, 7);

    private static XElement Read(FeedDocument document) => XDocument.Parse(Encoding.UTF8.GetString(document.Bytes)).Root!;

    private static string? Link(XElement element, string rel) =>
        element.Elements(Atom + "link").FirstOrDefault(l => (string?)l.Attribute("rel") == rel)?.Attribute("href")?.Value;
}
