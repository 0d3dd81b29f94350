using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Web;

/// <summary>The personal links over HTTP against the real application: one-click, GET safety, bad tokens, antiforgery, flood.</summary>
public sealed class SubscriptionLinkTests
{
    private static FormUrlEncodedContent OneClickBody => new([new("List-Unsubscribe", "One-Click")]);

    [Fact]
    public async Task OneClickPost_WithoutCookiesOrAntiforgery_UnsubscribesWith200NoRedirectTwice()
    {
        await using var app = await TestApp.StartAsync();
        var subscriber = await app.AddSubscriberAsync("one-click@example.org", "diffusion", SubscriberStatus.Active);
        var token = await WebTestData.TokenAsync(app, subscriber.Id, TokenPurpose.Unsubscribe);
        using var client = app.CreateClient(allowRedirects: false, useCookies: false);

        using var first = await client.PostAsync($"unsubscribe/{token}", OneClickBody, Ct);
        var firstBody = await first.Content.ReadAsStringAsync(Ct);
        using var second = await client.PostAsync($"unsubscribe/{token}", OneClickBody, Ct);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Null(first.Headers.Location);
        Assert.True(firstBody.Length < 100, firstBody);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("unsubscribed", await WebTestData.StatusOfAsync(app, subscriber.Id));
    }

    [Fact]
    public async Task Get_UnsubscribeAndConfirmLinks_ShowAButtonAndChangeNothing()
    {
        await using var app = await TestApp.StartAsync();
        var (pending, confirm, active, unsubscribe) = await PendingAndActiveAsync(app, "new@example.org", "reader@example.org");
        using var client = app.CreateClient();

        using var unsubscribePage = await client.GetAsync($"unsubscribe/{unsubscribe}", Ct);
        using var confirmPage = await client.GetAsync($"confirm/{confirm}", Ct);

        Assert.Equal(HttpStatusCode.OK, unsubscribePage.StatusCode);
        Assert.Contains("<button", await unsubscribePage.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, confirmPage.StatusCode);
        Assert.Contains("Confirm subscription", await confirmPage.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal("active", await WebTestData.StatusOfAsync(app, active.Id));
        Assert.Equal("pending", await WebTestData.StatusOfAsync(app, pending.Id));
    }

    [Fact]
    public async Task Links_ForgedTamperedOrExpiredToken_Refused404Or410()
    {
        await using var app = await TestApp.StartAsync();
        var subscriber = await app.AddSubscriberAsync("victim@example.org", "diffusion", SubscriberStatus.Pending);
        var manage = await WebTestData.TokenAsync(app, subscriber.Id, TokenPurpose.Manage);
        var expired = await WebTestData.TokenAsync(app, subscriber.Id, TokenPurpose.Confirm, DateTimeOffset.UtcNow.AddMinutes(-1));
        var tampered = manage[..^1] + (manage[^1] == 'A' ? 'B' : 'A');
        using var client = app.CreateClient(useCookies: false);

        foreach (var path in new[] { "manage", "confirm", "unsubscribe", "digest" })
        {
            using var forged = await client.GetAsync($"{path}/AAAAAAAAAAAAAAAAAAAAAA", Ct);
            Assert.Equal(HttpStatusCode.NotFound, forged.StatusCode);
            Assert.Contains("We do not know this link", await forged.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        using var tamperedPage = await client.GetAsync($"manage/{tampered}", Ct);
        using var wrongPurpose = await client.GetAsync($"unsubscribe/{manage}", Ct);
        using var expiredPage = await client.GetAsync($"confirm/{expired}", Ct);
        using var expiredPost = await client.PostAsync($"unsubscribe/{tampered}", OneClickBody, Ct);

        Assert.Equal(HttpStatusCode.NotFound, tamperedPage.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, wrongPurpose.StatusCode);
        Assert.Equal(HttpStatusCode.Gone, expiredPage.StatusCode);
        Assert.Contains("This link has expired", await expiredPage.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, expiredPost.StatusCode);
        Assert.Equal("pending", await WebTestData.StatusOfAsync(app, subscriber.Id));
    }

    [Fact]
    public async Task FormPost_WithoutAntiforgeryToken_Returns400AndChangesNothing()
    {
        await using var app = await TestApp.StartAsync();
        var (pending, confirm, active, unsubscribe) = await PendingAndActiveAsync(app, "pending@example.org", "active@example.org");
        using var client = app.CreateClient();
        FormUrlEncodedContent Empty() => new([new("Interests", "anything")]);

        using var confirmPost = await client.PostAsync($"confirm/{confirm}", Empty(), Ct);
        using var unsubscribePost = await client.PostAsync($"unsubscribe/{unsubscribe}", Empty(), Ct);
        using var subscribePost = await client.PostAsync("subscribe", new FormUrlEncodedContent([new("Email", "x@example.org")]), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, confirmPost.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, unsubscribePost.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, subscribePost.StatusCode);
        Assert.Equal("pending", await WebTestData.StatusOfAsync(app, pending.Id));
        Assert.Equal("active", await WebTestData.StatusOfAsync(app, active.Id));
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscribers where email = 'x@example.org'"));
    }

    /// <summary>
    /// The manage page's forms carry no antiforgery field: its link is the secret a cross-site form cannot know. So a
    /// POST is refused exactly when the link is not this page's: tampered, signed by another installation's key, or
    /// of another purpose.
    /// </summary>
    [Fact]
    public async Task ManagePost_TamperedForeignOrOtherPurposeLink_Refused404AndChangesNothing()
    {
        await using var app = await TestApp.StartAsync();
        var (_, _, active, unsubscribe) = await PendingAndActiveAsync(app, "pending@example.org", "active@example.org");
        var manage = await WebTestData.TokenAsync(app, active.Id, TokenPurpose.Manage);
        var tampered = manage[..^1] + (manage[^1] == 'A' ? 'B' : 'A');
        var foreign = new DigestLinkKeys(new Dictionary<byte, byte[]> { [1] = new byte[32] }).Sign(1, TokenPurpose.Manage);
        using var client = app.CreateClient(useCookies: false);
        FormUrlEncodedContent Form() => new([new("Interests", "anything"), new("Format", "Text")]);

        var refused = new List<HttpStatusCode>();
        foreach (var link in new[] { tampered, foreign, unsubscribe })
        {
            foreach (var handler in new[] { "", "?handler=Pause", "?handler=Unsubscribe" })
            {
                using var post = await client.PostAsync($"manage/{link}{handler}", Form(), Ct);
                refused.Add(post.StatusCode);
            }
        }
        var untouched = (await WebTestData.StatusOfAsync(app, active.Id),
            await app.ScalarAsync<string>("select interests from subscribers where id = @id", ("id", active.Id)));
        using var genuine = await client.PostAsync($"manage/{manage}?handler=Pause", Form(), Ct);

        Assert.All(refused, status => Assert.Equal(HttpStatusCode.NotFound, status));
        Assert.Equal(("active", "diffusion"), untouched);
        Assert.Equal(HttpStatusCode.OK, genuine.StatusCode);
        Assert.Equal("paused", await WebTestData.StatusOfAsync(app, active.Id));
    }

    [Fact]
    public async Task ManagePost_WithoutTheChoiceFieldsOrNotAForm_Refused400AndKeepsWhatWasSaved()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("weekly@example.org", "diffusion", SubscriberStatus.Active);
        var store = app.Services.GetRequiredService<SubscriberStore>();
        await store.UpdateChoicesAsync(reader.Id, ReaderChoices.Default with { Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Friday }, Ct);
        var manage = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Manage);
        using var client = app.CreateClient(useCookies: false);

        // What a script that knows only the older form would post: interests and format.
        using var post = await client.PostAsync($"manage/{manage}", new FormUrlEncodedContent(
            [new("Interests", "transformers"), new("Format", "Text")]), Ct);
        var body = await post.Content.ReadAsStringAsync(Ct);
        using var json = await client.PostAsync($"manage/{manage}", new StringContent("""{"Frequency":"Daily"}""", Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        Assert.Contains("Frequency", body, StringComparison.Ordinal);
        var choices = await store.GetChoicesAsync(reader.Id, Ct);
        Assert.Equal((DigestFrequency.Weekly, DayOfWeek.Friday), (choices.Frequency, choices.Weekday));
        Assert.Equal("diffusion", await app.ScalarAsync<string>("select interests from subscribers where id = @id", ("id", reader.Id)));
    }

    [Fact]
    public async Task SubscribePost_FloodFromOneClient_Gets429AndAtMostThreeConfirmationMails()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        using var client = app.CreateClient();
        var token = Antiforgery.TokenIn(await client.GetStringAsync("subscribe", Ct));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await client.PostAsync("subscribe", new FormUrlEncodedContent(
            [
                new("__RequestVerificationToken", token), new("Email", "flooded@example.org"), new("Interests", "diffusion"), new("Format", "Html"),
            ]), Ct);
            statuses.Add(response.StatusCode);
        }

        await app.Smtp.WaitForMessagesAsync(3, cancellationToken: Ct);
        // Three mails go; the next two posts are told no mail went (the address's hourly limit), the last five the client's.
        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.Redirect));
        Assert.Equal(7, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        // Only the mails the ledger admitted have a job, so no fourth can follow: the database holds exactly three.
        Assert.Equal(3L, await app.ScalarAsync<long>("select count(*) from confirmation_mails"));
        Assert.Equal(3L, await app.ScalarAsync<long>("select count(*) from subscriber_tokens where purpose = 'confirm'"));
        Assert.Equal(3, app.Smtp.Received.Count);
        Assert.All(app.Smtp.Messages, m => Assert.Equal("flooded@example.org", m.To.Mailboxes.Single().Address));
        Assert.Equal("pending", await app.ScalarAsync<string>("select status from subscribers where email = 'flooded@example.org'"));
    }

    /// <summary>A pending reader with a live confirmation link, and an active one with an unsubscribe link.</summary>
    private static async Task<(Subscriber Pending, string Confirm, Subscriber Active, string Unsubscribe)> PendingAndActiveAsync(
        TestApp app, string pendingEmail, string activeEmail)
    {
        var pending = await app.AddSubscriberAsync(pendingEmail, "diffusion", SubscriberStatus.Pending);
        var active = await app.AddSubscriberAsync(activeEmail, "diffusion", SubscriberStatus.Active);
        return (pending, await WebTestData.TokenAsync(app, pending.Id, TokenPurpose.Confirm, DateTimeOffset.UtcNow.AddHours(72)),
            active, await WebTestData.TokenAsync(app, active.Id, TokenPurpose.Unsubscribe));
    }
}
