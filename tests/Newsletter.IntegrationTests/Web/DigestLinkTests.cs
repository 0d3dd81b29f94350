using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Web;

/// <summary>The signed links of a digest that really went out over SMTP, followed over HTTP.</summary>
public sealed class DigestLinkTests
{
    [Fact]
    public async Task SentDigest_EachLinkOpensItsOwnPageOnly_NothingIsStored_AndTheLinksDieWithTheSubscriber()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        var subscriber = await app.AddSubscriberAsync("reader@example.org", "diffusion");
        await app.IngestSamplePapersSayingAsync("diffusion");

        var digest = (await app.Smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0].Parse();
        var text = digest.TextBody ?? "";
        var manage = app.LinkIn(text, "manage/");
        var view = app.LinkIn(text, "digest/");
        var unsubscribe = app.LinkIn(digest.Headers["List-Unsubscribe"] ?? "", "unsubscribe/");
        var viewToken = view[(view.LastIndexOf('/') + 1)..];
        using var client = app.CreateClient(allowRedirects: false, useCookies: false);

        using var managePage = await client.GetAsync(manage, Ct);
        using var copyPage = await client.GetAsync(view, Ct);
        // The "view in browser" link is the one people forward: it must not work as an unsubscribe or manage link.
        using var viewAsUnsubscribe = await client.PostAsync($"unsubscribe/{viewToken}", OneClick(), Ct);
        using var viewAsManage = await client.GetAsync($"manage/{viewToken}", Ct);

        Assert.Equal(HttpStatusCode.OK, managePage.StatusCode);
        Assert.Contains("reader@example.org", await managePage.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, copyPage.StatusCode);
        Assert.Contains($"of {Samples.SamplePapersSaying("diffusion").Count} papers matched your interests (<bdi>diffusion</bdi>)", await copyPage.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, viewAsUnsubscribe.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, viewAsManage.StatusCode);
        Assert.Equal("active", await WebTestData.StatusOfAsync(app, subscriber.Id));
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscriber_tokens"));

        using var oneClick = await client.PostAsync(unsubscribe, OneClick(), Ct);
        Assert.Equal(HttpStatusCode.OK, oneClick.StatusCode);
        Assert.Equal("unsubscribed", await WebTestData.StatusOfAsync(app, subscriber.Id));

        // Erased: their delivery rows go with them, and with those every link of every digest they were sent.
        Assert.True(await app.Services.GetRequiredService<SubscriberStore>().DeleteAsync(subscriber.Id, Ct));
        using var afterErasure = await client.GetAsync(manage, Ct);
        Assert.Equal(HttpStatusCode.NotFound, afterErasure.StatusCode);
    }

    [Fact]
    public async Task WebCopy_DigestOfSuggestionsOnly_SaysNothingMatchedAndShowsThemUnderAlsoForYou()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        // No paper of the sample says "speech": the digest holds only what the line, read for meaning, suggests.
        await app.AddSubscriberAsync("speech@example.org", "speech recognition");
        await app.IngestSampleAsync();
        var digest = (await app.Smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0].Parse();
        var suggestions = DigestReader.Suggestions(digest);
        Assert.Empty(DigestReader.Titles(digest));
        Assert.NotEmpty(suggestions);

        using var client = app.CreateClient();
        var page = WebUtility.HtmlDecode(await client.GetStringAsync(app.LinkIn(digest.TextBody ?? "", "digest/"), Ct));

        var meta = DigestReader.Normalized(System.Text.RegularExpressions.Regex.Replace(
            System.Text.RegularExpressions.Regex.Match(page, "<p class=\"meta\">(.*?)</p>", System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value, "<[^>]+>", ""));
        Assert.Equal("Tuesday, 11 March 2025 · 0 of 70 papers matched your interests (speech recognition). See the whole issue.", meta);
        var also = page.IndexOf("Also for you", StringComparison.Ordinal);
        Assert.True(also > 0, "the web copy has no \"Also for you\"");
        Assert.All(suggestions, title => Assert.Contains(title, DigestReader.Normalized(page[also..]), StringComparison.Ordinal));
    }

    [Fact]
    public async Task WebCopy_OpenedAfterTheKeywordLineChanged_DoesNotClaimTheNewLineMatched()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        await app.AddSubscriberAsync("reader@example.org", "diffusion");
        await app.IngestSamplePapersSayingAsync("diffusion");
        var digest = (await app.Smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0].Parse();
        var copy = app.LinkIn(digest.TextBody ?? "", "digest/");
        using var client = app.CreateClient();
        var before = WebUtility.HtmlDecode(await client.GetStringAsync(copy, Ct));
        // The reader then gives the manage page a new line, as from the digest's link.
        using (var saved = await client.PostAsync(app.LinkIn(digest.TextBody ?? "", "manage/"), new FormUrlEncodedContent(
            [new("Interests", "robotics"), new("Format", "Html"), new("Suggestions", "5"), new("Frequency", "Daily"),
             new("Weekday", "Monday"), new("TimeZone", ""), new("NoRepeats", "true")]), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        }

        var after = WebUtility.HtmlDecode(await client.GetStringAsync(copy, Ct));

        Assert.Contains($"of {Samples.SamplePapersSaying("diffusion").Count} papers matched your interests (<bdi>diffusion</bdi>).", before, StringComparison.Ordinal);
        Assert.Contains("<mark>", before, StringComparison.Ordinal);
        Assert.DoesNotContain("matched your interests (<bdi>robotics</bdi>)", after, StringComparison.Ordinal);
        Assert.Contains($"of {Samples.SamplePapersSaying("diffusion").Count} papers matched the keywords you had then (you have changed them since).", after, StringComparison.Ordinal);
        // The papers are the digest's, still; no word of them is marked as a match of a line they were not chosen by.
        Assert.Equal(Count(before, "<article class=\"paper\">"), Count(after, "<article class=\"paper\">"));
        Assert.DoesNotContain("<mark>", after, StringComparison.Ordinal);

        static int Count(string text, string part) => text.Split(part).Length - 1;
    }

    private static FormUrlEncodedContent OneClick() => new([new("List-Unsubscribe", "One-Click")]);
}
