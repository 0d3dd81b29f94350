using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Newsletter.IntegrationTests.Web;
using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.IntegrationTests.Feeds;

/// <summary>The Atom feeds over HTTP against the real application, read by a real feed parser (python3-feedparser).</summary>
public sealed partial class FeedTests
{
    [Fact]
    public async Task ReaderFeed_AfterADigest_CarriesItsPapersAsValidAtomWithIdsStableAcrossFetches()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        var reader = await app.AddSubscriberAsync("feed-reader@example.org", "diffusion", SubscriberStatus.Active);
        await app.AddSubscriberAsync("someone-else@example.org", "reasoning -diffusion", SubscriberStatus.Active);
        await app.IngestSampleAsync();
        var ledger = app.Ledger;
        await Eventually.WaitAsync(() => ledger.SettledAsync(1, 2), Eventually.DefaultTimeout, "both deliveries", Ct);
        Assert.Equal(2, app.Smtp.Received.Count);
        var delivered = await app.ScalarAsync<long[]>("select paper_ids from deliveries where subscriber_id = @id", ("id", reader.Id));
        using var client = app.CreateClient();

        var feed = await NewFeedAddressAsync(app, client, reader.Id);
        using var first = await client.GetAsync(feed, Ct);
        var firstBytes = await first.Content.ReadAsByteArrayAsync(Ct);
        using var second = await client.GetAsync(feed, Ct);
        var parsed = await FeedParser.ParseAsync(firstBytes, Ct);
        var again = await FeedParser.ParseAsync(await second.Content.ReadAsByteArrayAsync(Ct), Ct);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("application/atom+xml", first.Content.Headers.ContentType?.MediaType);
        Assert.True(parsed.Bozo == 0, parsed.Error);
        Assert.Equal("atom10", parsed.Version);
        Assert.Equal(delivered.Length, parsed.Entries.Count);
        Assert.All(parsed.Entries, e => Assert.StartsWith("tag:localhost,2025:paper/", e.Id, StringComparison.Ordinal));
        Assert.Equal(delivered.Select(id => $"tag:localhost,2025:paper/{id}").Order(StringComparer.Ordinal), parsed.Entries.Select(e => e.Id).Order(StringComparer.Ordinal));
        Assert.All(parsed.Entries, e => Assert.Contains("diffusion", e.Title + e.Summary, StringComparison.OrdinalIgnoreCase));
        Assert.All(parsed.Entries, e => Assert.StartsWith("https://", e.Link, StringComparison.Ordinal));
        Assert.Equal(parsed.Entries.Select(e => e.Id), again.Entries.Select(e => e.Id));
        Assert.Equal(first.Headers.ETag, second.Headers.ETag);
    }

    [Fact]
    public async Task ReaderFeed_ConditionalGet_Answers304ForTheSameETagOrDate()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("conditional@example.org", "diffusion", SubscriberStatus.Active);
        using var client = app.CreateClient();
        var feed = await NewFeedAddressAsync(app, client, reader.Id);
        using var full = await client.GetAsync(feed, Ct);
        var etag = full.Headers.ETag!;
        var lastModified = full.Content.Headers.LastModified!.Value;

        using var sameTag = await SendAsync(client, feed, r => r.Headers.IfNoneMatch.Add(etag));
        using var sameDate = await SendAsync(client, feed, r => r.Headers.IfModifiedSince = lastModified);
        using var otherTag = await SendAsync(client, feed, r => r.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\"")));
        using var olderDate = await SendAsync(client, feed, r => r.Headers.IfModifiedSince = lastModified.AddDays(-1));

        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, sameTag.StatusCode);
        Assert.Empty(await sameTag.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal(HttpStatusCode.NotModified, sameDate.StatusCode);
        Assert.Equal(HttpStatusCode.OK, otherTag.StatusCode);
        Assert.Equal(HttpStatusCode.OK, olderDate.StatusCode);
    }

    [Fact]
    public async Task ReaderFeed_AnOlderIssueReachesTheReaderLater_ARevalidationByDateGetsItsPapers()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        var reader = await app.AddSubscriberAsync("late@example.org", "diffusion", SubscriberStatus.Active);
        var issueId = await app.IngestSamplePapersSayingAsync("diffusion");
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(issueId, 1), Eventually.DefaultTimeout, "the delivery", Ct);
        // The issue is three days old and its digest failed then: the feed has nothing yet.
        await app.ExecuteAsync("update issues set created_at = now() - interval '3 days'");
        await app.ExecuteAsync("update deliveries set status = 'failed'");
        using var client = app.CreateClient();
        var feed = await NewFeedAddressAsync(app, client, reader.Id);
        // Made an hour ago: HTTP dates have whole seconds, and this test runs within one.
        await app.ExecuteAsync("update subscriber_feeds set created_at = now() - interval '1 hour'");
        using var before = await client.GetAsync(feed, Ct);
        var lastModified = before.Content.Headers.LastModified!.Value;

        // An admin's re-send reaches the reader today.
        await app.ExecuteAsync("update deliveries set status = 'sent', sent_at = now(), updated_at = now()");
        // A client that revalidates by date alone (If-Modified-Since) must not be told nothing changed.
        using var after = await SendAsync(client, feed, r => r.Headers.IfModifiedSince = lastModified);

        Assert.Empty((await FeedParser.ParseAsync(await before.Content.ReadAsByteArrayAsync(Ct), Ct)).Entries);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.NotEmpty((await FeedParser.ParseAsync(await after.Content.ReadAsByteArrayAsync(Ct), Ct)).Entries);
    }

    [Fact]
    public async Task ReaderFeed_NewAddressOrTurnedOff_OldAddressAnswers404()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("revoker@example.org", "diffusion", SubscriberStatus.Active);
        using var client = app.CreateClient();
        var old = await NewFeedAddressAsync(app, client, reader.Id);

        var replacement = await NewFeedAddressAsync(app, client, reader.Id);
        using var oldAfterReplacement = await client.GetAsync(old, Ct);
        using var replacementWorks = await client.GetAsync(replacement, Ct);
        var manage = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Manage);
        var page = await client.GetStringAsync($"manage/{manage}/feed", Ct);
        using var off = await client.PostAsync($"manage/{manage}/feed?handler=Off",
            new FormUrlEncodedContent([new("__RequestVerificationToken", WebTestData.AntiforgeryToken(page))]), Ct);
        using var replacementAfterOff = await client.GetAsync(replacement, Ct);

        Assert.NotEqual(old, replacement);
        Assert.Equal(HttpStatusCode.NotFound, oldAfterReplacement.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replacementWorks.StatusCode);
        Assert.Contains("You made a feed address on", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        Assert.Contains("You have no feed address", await off.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, replacementAfterOff.StatusCode);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscriber_feeds"));
    }

    [Fact]
    public async Task ReaderFeed_MakeAddressFormSentAgainByReloadOrBack_TheAddressItMadeKeepsWorking()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("reloader@example.org", "diffusion", SubscriberStatus.Active);
        var manage = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Manage);
        using var client = app.CreateClient();
        var page = await client.GetStringAsync($"manage/{manage}/feed", Ct);
        // What the page's form posts, sent once, then once more as a reload of the answer (or back and press again) sends it.
        var form = HiddenInput().Matches(page).Select(m => new KeyValuePair<string, string>(m.Groups[1].Value, WebUtility.HtmlDecode(m.Groups[2].Value))).ToList();
        using var made = await client.PostAsync($"manage/{manage}/feed?handler=New", new FormUrlEncodedContent(form), Ct);
        var address = FeedAddress().Match(await made.Content.ReadAsStringAsync(Ct)).Groups[1].Value;

        using var again = await client.PostAsync($"manage/{manage}/feed?handler=New", new FormUrlEncodedContent(form), Ct);
        var againPage = await again.Content.ReadAsStringAsync(Ct);
        using var copied = await client.GetAsync($"feeds/{address}", Ct);

        Assert.Equal(HttpStatusCode.OK, copied.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("Not replaced:", againPage, StringComparison.Ordinal);
        Assert.DoesNotMatch(FeedAddress(), againPage);
    }

    [Fact]
    public async Task IssueFeed_LinkedFromTheWebCopy_ListsEveryPaperAndAnswers304()
    {
        await using var app = await TestApp.StartAsync();
        await app.IngestSampleAsync();
        var issueId = await app.ScalarAsync<long>("select id from issues");
        using var client = app.CreateClient();

        var copy = await client.GetStringAsync($"issues/{issueId}", Ct);
        var href = AlternateFeed().Match(copy) is { Success: true } match ? match.Groups[1].Value : throw new InvalidOperationException("no feed link in:\n" + copy);
        using var response = await client.GetAsync(href.TrimStart('/'), Ct);
        var parsed = await FeedParser.ParseAsync(await response.Content.ReadAsByteArrayAsync(Ct), Ct);
        using var notModified = await SendAsync(client, href.TrimStart('/'), r => r.Headers.IfNoneMatch.Add(response.Headers.ETag!));
        using var unknown = await client.GetAsync($"issues/{issueId + 1}/feed", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(parsed.Bozo == 0, parsed.Error);
        Assert.Equal("atom10", parsed.Version);
        Assert.Equal(70, parsed.Entries.Count);
        Assert.Equal(Samples.SamplePapers()[0].Title, parsed.Entries[0].Title);
        Assert.Equal($"tag:localhost,2025:issue/{issueId}", parsed.Id);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Feeds_HeadRequest_AnswersWithTheHeadersOfAGetAndNoBody()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("head@example.org", "diffusion", SubscriberStatus.Active);
        var issueId = await app.IngestSamplePapersSayingAsync("diffusion");
        using var client = app.CreateClient();
        var personal = await NewFeedAddressAsync(app, client, reader.Id);

        foreach (var feed in new[] { personal, $"issues/{issueId}/feed" })
        {
            using var get = await client.GetAsync(feed, Ct);
            using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, feed), Ct);
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(get.Headers.ETag, head.Headers.ETag);
            Assert.Equal(get.Headers.CacheControl, head.Headers.CacheControl);
            Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
            Assert.Equal(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
            Assert.Equal(get.Content.Headers.LastModified, head.Content.Headers.LastModified);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync(Ct));
        }
        using var unknown = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "feeds/AAAAAAAAAAAAAAAAAAAAAA"), Ct);

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Feeds_MoreRequestsThanTheLimitPerMinute_Answer429()
    {
        await using var app = await TestApp.StartAsync(
            settings: new Dictionary<string, string?> { ["Newsletter:Feeds:RequestsPerMinute"] = "3" });
        await app.IngestSamplePapersSayingAsync("diffusion");
        var issueId = await app.ScalarAsync<long>("select id from issues");
        using var client = app.CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await client.GetAsync(i % 2 == 0 ? $"issues/{issueId}/feed" : "feeds/AAAAAAAAAAAAAAAAAAAAAA", Ct);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.NotFound, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task Feeds_OverTheLimit_429SaysWhenToComeBackAndNothingAboutAForm()
    {
        await using var app = await TestApp.StartAsync(
            settings: new Dictionary<string, string?> { ["Newsletter:Feeds:RequestsPerMinute"] = "1" });
        await app.IngestSamplePapersSayingAsync("diffusion");
        var issueId = await app.ScalarAsync<long>("select id from issues");
        using var client = app.CreateClient();
        using (var first = await client.GetAsync($"issues/{issueId}/feed", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // A feed reader polling too often: it reads when to try again from the header, a person from the page.
        using var refused = await client.GetAsync($"issues/{issueId}/feed", Ct);
        var page = await refused.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter?.Delta);
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        Assert.DoesNotContain("form", page, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Too many requests", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Feeds_AddressesOfOneIpv6Network_ShareOneLimit()
    {
        await using var app = await TestApp.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Newsletter:Feeds:RequestsPerMinute"] = "3",
            ["Newsletter:Web:TrustedProxies:0"] = "127.0.0.1",
        });
        await app.IngestSamplePapersSayingAsync("diffusion");
        var issueId = await app.ScalarAsync<long>("select id from issues");
        using var client = app.CreateClient(useCookies: false);

        var statuses = new List<HttpStatusCode>();
        for (var i = 1; i <= 5; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"issues/{issueId}/feed");
            // One host's /64: a new address per request must not be a new allowance.
            request.Headers.Add("X-Forwarded-For", $"2001:db8:1:2::{i:x}");
            using var response = await client.SendAsync(request, Ct);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    /// <summary>Makes a new feed address from the manage page's feed link, as a reader would; returns its path on the test server.</summary>
    private static async Task<string> NewFeedAddressAsync(TestApp app, HttpClient client, long subscriberId)
    {
        var manage = await WebTestData.TokenAsync(app, subscriberId, TokenPurpose.Manage);
        var managePage = await client.GetStringAsync($"manage/{manage}", Ct);
        var feedPage = FeedLink().Match(managePage) is { Success: true } link ? link.Groups[1].Value.TrimStart('/') : throw new InvalidOperationException("no feed link in:\n" + managePage);
        var page = await client.GetStringAsync(feedPage, Ct);
        using var made = await client.PostAsync($"{feedPage}?handler=New",
            new FormUrlEncodedContent([new("__RequestVerificationToken", WebTestData.AntiforgeryToken(page))]), Ct);
        var html = await made.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, made.StatusCode);
        return FeedAddress().Match(html) is { Success: true } match
            ? $"feeds/{match.Groups[1].Value}"
            : throw new InvalidOperationException("no feed address in:\n" + html);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string path, Action<HttpRequestMessage> conditions)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        conditions(request);
        return await client.SendAsync(request, Ct);
    }

    [GeneratedRegex(@"<a id=""feed-link"" href=""([^""]+)""")]
    private static partial Regex FeedLink();

    [GeneratedRegex(@"<input name=""([^""]+)"" type=""hidden"" value=""([^""]*)""")]
    private static partial Regex HiddenInput();

    [GeneratedRegex(@"value=""http://localhost/feeds/([A-Za-z0-9_-]+)""")]
    private static partial Regex FeedAddress();

    [GeneratedRegex(@"<link rel=""alternate"" type=""application/atom\+xml""[^>]* href=""([^""]+)""")]
    private static partial Regex AlternateFeed();
}
