using System.Buffers.Text;
using System.Security.Cryptography;
using System.ServiceModel.Syndication;
using System.Text;
using System.Xml;
using Microsoft.Net.Http.Headers;

namespace Newsletter.Feeds;

/// <summary>A written feed: its bytes and the validators a conditional GET compares (both follow from the bytes).</summary>
public sealed record FeedDocument(byte[] Bytes, DateTimeOffset LastModified, EntityTagHeaderValue ETag);

/// <summary>What a feed says about itself; every link is absolute.</summary>
public sealed record FeedHeader(string Id, string Title, string Subtitle, Uri Self, Uri Alternate, DateTimeOffset EmptyUpdated);

/// <summary>
/// Writes Atom 1.0 (RFC 4287) through System.ServiceModel.Syndication. The same data always gives the same bytes (no
/// clock is read here), so the ETag, a hash of the bytes, changes exactly when the feed does. An entry's id is a tag:
/// URI (RFC 4151) of its paper, so a reader sees a paper once however often the feed is fetched, and the same paper in
/// a personal and an issue feed is one entry.
/// </summary>
public static class AtomFeedWriter
{
    public const string ContentType = "application/atom+xml; charset=utf-8";

    // The date part of every tag: URI. Fixed for ever: changing it would change every id.
    private const string TagDate = "2025";

    private const int MaxRelatedLinks = 5;

    /// <summary>"tag:{host},2025:{specific}"; <paramref name="site"/> names the authority (the public site's host).</summary>
    public static string TagUri(Uri site, string specific)
    {
        ArgumentNullException.ThrowIfNull(site);
        return $"tag:{site.IdnHost},{TagDate}:{specific}";
    }

    /// <param name="changedAt">When the entries last changed, if that can be later than the newest entry's date (papers of
    /// an older issue that reached the reader today): the feed's updated time and Last-Modified are never earlier.</param>
    public static FeedDocument Write(FeedHeader header, string author, Uri site, IReadOnlyList<FeedEntry> entries, DateTimeOffset? changedAt = null)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(entries);
        var updated = entries.Count == 0 ? header.EmptyUpdated : entries.Max(e => e.Published);
        if (changedAt > updated)
        {
            updated = changedAt.Value;
        }
        var feed = new SyndicationFeed(XmlText(header.Title), XmlText(header.Subtitle), header.Alternate, header.Id, updated);
        feed.Authors.Add(new SyndicationPerson { Name = XmlText(author) });
        feed.Links.Add(SyndicationLink.CreateSelfLink(header.Self, "application/atom+xml"));
        feed.Items = entries.Select(e => Entry(e, site)).ToList();

        using var buffer = new MemoryStream();
        using (var writer = XmlWriter.Create(buffer, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = false }))
        {
            new Atom10FeedFormatter(feed).WriteTo(writer);
        }
        var bytes = buffer.ToArray();
        var tag = Base64Url.EncodeToString(SHA256.HashData(bytes).AsSpan(0, 16));
        return new FeedDocument(bytes, updated, new EntityTagHeaderValue($"\"{tag}\""));
    }

    private static SyndicationItem Entry(FeedEntry entry, Uri site)
    {
        var paper = entry.Paper;
        var item = new SyndicationItem(XmlText(paper.Title), (SyndicationContent?)null, Link(paper.Url) ?? new Uri(site, $"issues/{entry.IssueId}"),
            TagUri(site, $"paper/{paper.Id}"), entry.Published)
        {
            PublishDate = entry.Published,
            Summary = new TextSyndicationContent(XmlText(paper.Abstract)),
        };
        // The issue the paper came in, and its own links (code, project pages) beside the paper's page.
        item.Links.Add(new SyndicationLink(new Uri(site, $"issues/{entry.IssueId}"), "via", null, "text/html", 0));
        foreach (var link in paper.Links.Select(Link).OfType<Uri>().Take(MaxRelatedLinks))
        {
            item.Links.Add(new SyndicationLink(link, "related", null, null, 0));
        }
        return item;
    }

    private static Uri? Link(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp) ? uri : null;

    /// <summary>The text without the characters XML 1.0 cannot carry (control characters from a mangled listing).</summary>
    internal static string XmlText(string text)
    {
        StringBuilder? builder = null;
        for (var i = 0; i < text.Length; i++)
        {
            var pair = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            if (pair || XmlConvert.IsXmlChar(text[i]))
            {
                builder?.Append(text, i, pair ? 2 : 1);
            }
            else
            {
                builder ??= new StringBuilder(text.Length).Append(text, 0, i);
            }
            i += pair ? 1 : 0;
        }
        return builder?.ToString() ?? text;
    }
}
