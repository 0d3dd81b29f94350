using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.IntegrationTests.Relevance;

/// <summary>
/// A reader teaches their digest from the digest itself: real SMTP, real pages, the real model. Each day is a new
/// listing of the sample's papers, so the second digest can be compared with the first (the reader of that comparison
/// turned "no repeats" off, or the second digest would leave out every paper of the first).
/// </summary>
public sealed partial class ReaderVoteTests
{
    [Fact]
    public async Task VoteFromDigestLinks_NextDigestPutsTheLikedPaperFirstHidesTheDislikedAndSaysWhy()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        var reader = await app.AddSubscriberAsync("reader@example.org", "diffusion");
        var store = app.Services.GetRequiredService<SubscriberStore>();
        await store.UpdateChoicesAsync(reader.Id, await store.GetChoicesAsync(reader.Id, Ct) with { NoRepeats = false }, Ct);
        await IngestDayAsync(app, new DateOnly(2025, 3, 11));
        var first = (await app.Smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0].Parse().TextBody!.ReplaceLineEndings("\n");
        var firstOrder = Titles(first);
        Assert.True(firstOrder.Count >= 3, $"the first digest has {firstOrder.Count} papers");
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from reader_votes"));

        // The last paper of the first digest is liked, the first one disliked.
        var liked = firstOrder[^1];
        var disliked = firstOrder[0];
        using var client = app.CreateClient();
        var more = VoteLink(first, liked, "More like this", app);
        var less = VoteLink(first, disliked, "Less like this", app);
        var page = await client.GetStringAsync(more, Ct);
        Assert.Contains(WebUtility.HtmlEncode(liked), page, StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from reader_votes"));
        await ClickAsync(client, more, page);
        await ClickAsync(client, less, await client.GetStringAsync(less, Ct));
        Assert.Equal(2L, await app.ScalarAsync<long>("select count(*) from reader_votes"));

        await IngestDayAsync(app, new DateOnly(2025, 3, 12));
        var second = (await app.Smtp.WaitForMessagesAsync(2, cancellationToken: Ct))[1].Parse().TextBody!.ReplaceLineEndings("\n");
        var secondOrder = Titles(second);

        Assert.Equal(liked, secondOrder[0]);
        Assert.DoesNotContain(disliked, secondOrder);
        Assert.Matches("matched your keywords but looks? like ones you voted down", second);
        Assert.Matches(@"Like «.+», which you liked", second);

        // The web copy the "voted down" line links to shows the hidden match, apart and saying why.
        var copy = WebUtility.HtmlDecode(await client.GetStringAsync(app.LinkIn(second, "digest/"), Ct));
        var apart = copy.IndexOf("<h2>Matched, but like papers you voted down</h2>", StringComparison.Ordinal);
        Assert.True(apart > 0, "the web copy has no section for the hidden matches");
        // Titles as read: the matched words are marked.
        static string Text(string html) => DigestReader.Normalized(Regex.Replace(html, "<[^>]+>", ""));
        Assert.Contains(disliked, Text(copy[apart..]), StringComparison.Ordinal);
        Assert.DoesNotContain(disliked, Text(copy[..apart]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VoteLink_Undone_ForgottenOnTheManagePage_AndForgedOrForeignLinksRefused()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        var digest = await DiffusionReadersDigestAsync(app);
        var titles = Titles(digest);
        using var client = app.CreateClient();

        // Undo on the vote page takes the vote back.
        var first = VoteLink(digest, titles[0], "More like this", app);
        var voted = await ClickAsync(client, first, await client.GetStringAsync(first, Ct));
        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from reader_votes"));
        await PostAsync(client, first + "?handler=Undo", voted);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from reader_votes"));

        // Undo on a page left open takes back only its own vote, not one cast since from the other link.
        voted = await ClickAsync(client, first, await client.GetStringAsync(first, Ct));
        var otherWay = VoteLink(digest, titles[0], "Less like this", app);
        await ClickAsync(client, otherWay, await client.GetStringAsync(otherWay, Ct));
        var undone = await PostAsync(client, first + "?handler=Undo", voted);
        Assert.Contains("Nothing to undo: your \"Less like this\" vote on this paper, cast since, stays.", WebUtility.HtmlDecode(undone), StringComparison.Ordinal);
        Assert.Equal(-1, await app.ScalarAsync<short>("select vote from reader_votes"));
        await PostAsync(client, otherWay + "?handler=Undo", voted);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from reader_votes"));

        // The manage page lists what was learned; Remove forgets one, Forget everything the rest.
        foreach (var title in titles.Take(3))
        {
            var link = VoteLink(digest, title, "Less like this", app);
            await ClickAsync(client, link, await client.GetStringAsync(link, Ct));
        }
        var manage = app.LinkIn(digest, "manage/");
        var managePage = await client.GetStringAsync(manage, Ct);
        foreach (var title in titles.Take(3))
        {
            Assert.Contains(WebUtility.HtmlEncode(title), managePage, StringComparison.Ordinal);
        }
        // A save with a mistake in the line says so and keeps what was typed, and still shows what was learned.
        using (var mistaken = await client.PostAsync(manage, new FormUrlEncodedContent(
            [new("Interests", "diffusion \"unclosed"), new("Format", "Html"), new("Suggestions", "5"), new("Frequency", "Daily"),
             new("Weekday", "Monday"), new("TimeZone", ""), new("NoRepeats", "true")]), Ct))
        {
            var mistakePage = await mistaken.Content.ReadAsStringAsync(Ct);
            Assert.Equal(HttpStatusCode.BadRequest, mistaken.StatusCode);
            Assert.Contains(WebUtility.HtmlEncode("diffusion \"unclosed"), mistakePage, StringComparison.Ordinal);
            Assert.All(titles.Take(3), title => Assert.Contains(WebUtility.HtmlEncode(title), mistakePage, StringComparison.Ordinal));
        }
        var paperId = (long)(await app.ScalarAsync<long>("select min(paper_id) from reader_votes"))!;
        managePage = await PostAsync(client, manage + "?handler=ForgetVote", managePage, ("paper", paperId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(2L, await app.ScalarAsync<long>("select count(*) from reader_votes"));
        await PostAsync(client, manage + "?handler=ResetVotes", managePage);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from reader_votes"));

        // A token altered by one character, or signed with another installation's key, names nothing.
        var token = first[(first.LastIndexOf('/') + 1)..];
        var altered = token[..10] + (token[10] == 'A' ? 'B' : 'A') + token[11..];
        var foreign = new DigestLinkKeys(new Dictionary<byte, byte[]> { [1] = new byte[32] }).SignVote(1, 1, more: true);
        var formToken = Antiforgery.TokenIn(await client.GetStringAsync(first, Ct));
        foreach (var forged in new[] { altered, foreign })
        {
            using var response = await client.GetAsync($"vote/{forged}", Ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            using var post = await client.PostAsync($"vote/{forged}", new FormUrlEncodedContent([new("__RequestVerificationToken", formToken)]), Ct);
            Assert.NotEqual(HttpStatusCode.OK, post.StatusCode);
        }
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from reader_votes"));
    }

    [Fact]
    public async Task VoteLink_OtherWayOfAnEarlierVoteThenUndone_SaysSoAndBringsTheEarlierVoteBack()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        var digest = await DiffusionReadersDigestAsync(app);
        var title = Titles(digest)[0];
        using var client = app.CreateClient();
        var less = VoteLink(digest, title, "Less like this", app);
        await ClickAsync(client, less, await client.GetStringAsync(less, Ct));

        // A slip of the finger on the other link of the same paper, seen and undone at once.
        var more = VoteLink(digest, title, "More like this", app);
        var asked = await client.GetStringAsync(more, Ct);
        var voted = await ClickAsync(client, more, asked);
        Assert.Equal(1, await app.ScalarAsync<short>("select vote from reader_votes"));
        var undone = await PostAsync(client, more + "?handler=Undo", voted, HiddenFields(voted));

        Assert.Equal(-1, await app.ScalarAsync<short>("select vote from reader_votes"));
        Assert.Contains("This replaces your \"Less like this\" vote on this paper.", WebUtility.HtmlDecode(asked), StringComparison.Ordinal);
        Assert.Contains("Undone: your \"Less like this\" vote on this paper is back.", WebUtility.HtmlDecode(undone), StringComparison.Ordinal);
        var manage = WebUtility.HtmlDecode(Regex.Replace(await client.GetStringAsync(app.LinkIn(digest, "manage/"), Ct), "<[^>]+>", ""));
        Assert.Contains($"Less like «{title}»", manage, StringComparison.Ordinal);

        // Opened again later, the link says the vote stands instead of asking as if there were none.
        var reopened = WebUtility.HtmlDecode(await client.GetStringAsync(less, Ct));
        Assert.Contains("You already said \"Less like this\" to this paper.", reopened, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VoteLink_OpenedAndPressedAfterUnsubscribing_SaysNoDigestComesAndDoesNotPromiseANextOne()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        var digest = await DiffusionReadersDigestAsync(app);
        var reader = await app.ScalarAsync<long>("select id from subscribers where email = 'reader@example.org'");
        await app.Services.GetRequiredService<SubscriberStore>().TransitionAsync(reader, [SubscriberStatus.Active], SubscriberStatus.Unsubscribed, Ct);
        using var client = app.CreateClient();
        var more = VoteLink(digest, Titles(digest)[0], "More like this", app);

        var page = await client.GetStringAsync(more, Ct);
        var opened = WebUtility.HtmlDecode(page);
        var voted = WebUtility.HtmlDecode(await ClickAsync(client, more, page));

        Assert.DoesNotContain("in future digests?", opened, StringComparison.Ordinal);
        Assert.Contains("reader@example.org is unsubscribed: no digests go to it.", opened, StringComparison.Ordinal);
        Assert.Contains("A vote is kept for if digests start again: they would have more papers like this one.", opened, StringComparison.Ordinal);
        Assert.DoesNotContain("from the next digest on", voted, StringComparison.Ordinal);
        Assert.Contains("Noted. No digests go to reader@example.org now; when they start again, they will have more papers like this one.", voted, StringComparison.Ordinal);
        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from reader_votes"));
    }

    [Fact]
    public async Task ForgetEverything_OneVoteThenSentAgainFromTheBackButton_SaysWhatItForgot()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        var digest = await DiffusionReadersDigestAsync(app);
        using var client = app.CreateClient();
        var more = VoteLink(digest, Titles(digest)[0], "More like this", app);
        await ClickAsync(client, more, await client.GetStringAsync(more, Ct));
        var manage = app.LinkIn(digest, "manage/");
        var managePage = await client.GetStringAsync(manage, Ct);

        var forgotten = await PostAsync(client, manage + "?handler=ResetVotes", managePage);
        var again = await PostAsync(client, manage + "?handler=ResetVotes", managePage);

        Assert.DoesNotContain("All 1 votes", forgotten, StringComparison.Ordinal);
        Assert.Contains("Your one vote is forgotten: your digest starts again from your keywords.", forgotten, StringComparison.Ordinal);
        Assert.Contains("Nothing to forget: your digest had learned nothing.", again, StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from reader_votes"));
    }

    [Fact]
    public async Task RemoveOneVote_SentAgainFromTheBackButton_SaysItWasAlreadyForgotten()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        var digest = await DiffusionReadersDigestAsync(app);
        using var client = app.CreateClient();
        var less = VoteLink(digest, Titles(digest)[0], "Less like this", app);
        await ClickAsync(client, less, await client.GetStringAsync(less, Ct));
        var manage = app.LinkIn(digest, "manage/");
        var managePage = await client.GetStringAsync(manage, Ct);
        var paper = (await app.ScalarAsync<long>("select paper_id from reader_votes")).ToString(System.Globalization.CultureInfo.InvariantCulture);

        var removed = await PostAsync(client, manage + "?handler=ForgetVote", managePage, ("paper", paper));
        var again = await PostAsync(client, manage + "?handler=ForgetVote", managePage, ("paper", paper));

        Assert.Contains("Forgotten. The next digest no longer counts that paper.", removed, StringComparison.Ordinal);
        Assert.Contains("That vote was already forgotten.", again, StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from reader_votes"));
    }

    [Fact]
    public async Task VoteLink_UndoPressedAfterForgettingEverything_SaysItWasTakenBackNotThatAnotherVoteStays()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        var digest = await DiffusionReadersDigestAsync(app);
        using var client = app.CreateClient();
        var more = VoteLink(digest, Titles(digest)[0], "More like this", app);
        var voted = await ClickAsync(client, more, await client.GetStringAsync(more, Ct));
        var manage = app.LinkIn(digest, "manage/");
        await PostAsync(client, manage + "?handler=ResetVotes", await client.GetStringAsync(manage, Ct));

        // Back on the vote page, still open: Undo.
        var undone = WebUtility.HtmlDecode(await PostAsync(client, more + "?handler=Undo", voted, HiddenFields(voted)));

        Assert.DoesNotContain("A vote cast since from the other link stays.", undone, StringComparison.Ordinal);
        Assert.Contains("Nothing to undo: reader@example.org has no \"More like this\" vote on this paper now; it was taken back already, here or on your manage page.", undone, StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from reader_votes"));
    }

    [Fact]
    public async Task LikedPaperWithALongTitle_NextDigestsGoOutAndSayWhyWithTheTitleCutBetweenCharacters()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        var reader = await app.AddSubscriberAsync("reader@example.org", "diffusion");
        var other = await app.AddSubscriberAsync("other@example.org", "ensemble");
        var store = app.Services.GetRequiredService<SubscriberStore>();
        foreach (var id in new[] { reader.Id, other.Id })
        {
            await store.UpdateChoicesAsync(id, await store.GetChoicesAsync(id, Ct) with { NoRepeats = false }, Ct);
        }
        // Every title long, with a letter written as two UTF-16 units (a mathematical script O, as arXiv titles have them)
        // just where a reason shortens a liked paper's title.
        var papers = Samples.SamplePapers().Select(p => (LongTitle(p.Title), p.Abstract)).ToList();
        await app.IngestListingAsync(new DateOnly(2025, 3, 11), papers);
        await app.Smtp.WaitForMessagesAsync(2, cancellationToken: Ct);
        var first = To(app, "reader@example.org")[0].TextBody!.ReplaceLineEndings("\n");
        using var client = app.CreateClient();
        var more = VoteLink(first, Titles(first)[^1], "More like this", app);
        await ClickAsync(client, more, await client.GetStringAsync(more, Ct));

        // The next issue reaches both readers, the one who never voted too.
        await app.IngestListingAsync(new DateOnly(2025, 3, 12), papers);
        await app.Smtp.WaitForMessagesAsync(4, cancellationToken: Ct);
        Assert.Equal(2, To(app, "other@example.org").Count);
        var second = To(app, "reader@example.org")[1];

        foreach (var part in new[] { second.TextBody!, WebUtility.HtmlDecode(second.HtmlBody!) })
        {
            Assert.Matches(@"Like «[^«»\n]{88}…», which you liked", part);
            Assert.DoesNotContain('\uFFFD', part);
        }

        static string LongTitle(string title)
        {
            while (title.Length < 88)
            {
                title += " and beyond";
            }
            return title[..88] + "\U0001D4AA" + title[88..];
        }
    }

    private static List<MimeKit.MimeMessage> To(TestApp app, string email) =>
        [.. app.Smtp.Messages.Where(m => m.To.Mailboxes.Single().Address == email)];

    /// <summary>reader@example.org, who reads "diffusion", and the text part of their digest of 11 March: the sample's papers
    /// that say "diffusion", so the fan-out embeds a few papers, not seventy, for a test of the vote pages.</summary>
    private static async Task<string> DiffusionReadersDigestAsync(TestApp app)
    {
        await app.AddSubscriberAsync("reader@example.org", "diffusion");
        await app.IngestListingAsync(new DateOnly(2025, 3, 11), Samples.SamplePapersSaying("diffusion"));
        return (await app.Smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0].Parse().TextBody!.ReplaceLineEndings("\n");
    }

    private static Task<long> IngestDayAsync(TestApp app, DateOnly day) => app.IngestListingAsync(day, Samples.SamplePapers());

    /// <summary>The papers of a digest's text part in their order: each block starts with a rule, then the title.</summary>
    private static List<string> Titles(string text) =>
        [.. PaperTitle().Matches(text).Select(m => Regex.Replace(m.Groups[1].Value, @"\s*\n\s*", " ").Trim())];

    /// <summary>The vote link of <paramref name="label"/> under the paper titled <paramref name="title"/>.</summary>
    private static string VoteLink(string text, string title, string label, TestApp app)
    {
        var start = text.IndexOf(Titles(text).Select((t, i) => (t, i)).First(p => p.t == title).t[..20], StringComparison.Ordinal);
        var line = Regex.Match(text[start..], Regex.Escape(label) + @": (\S+)");
        return app.LinkIn(line.Groups[1].Value, "vote/");
    }

    /// <summary>Presses the vote page's one button.</summary>
    private static Task<string> ClickAsync(HttpClient client, string link, string page) => PostAsync(client, link, page);

    private static async Task<string> PostAsync(HttpClient client, string url, string page, params (string Name, string Value)[] fields)
    {
        // What the page's form sends: the vote page's carries an antiforgery field, the manage page's (its link is the secret) none.
        var form = Antiforgery.FieldsIn(page);
        form.AddRange(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));
        using var response = await client.PostAsync(url, new FormUrlEncodedContent(form), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST {url}: {(int)response.StatusCode}\n{body}");
        return body;
    }

    /// <summary>The hidden fields a page's forms post besides the antiforgery token.</summary>
    private static (string Name, string Value)[] HiddenFields(string page) =>
        [.. HiddenField().Matches(page).Select(m => (m.Groups[1].Value, WebUtility.HtmlDecode(m.Groups[2].Value))).Where(f => f.Item1 != "__RequestVerificationToken")];

    [GeneratedRegex(@"^-{70}\nTitle: (.+?)\nhttps://", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex PaperTitle();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\"")]
    private static partial Regex HiddenField();
}
