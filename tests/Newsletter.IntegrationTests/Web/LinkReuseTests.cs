using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.IntegrationTests.Web;

/// <summary>
/// Links travel: a confirmation link is used once, and a digest forwarded to someone else carries manage and
/// unsubscribe links that must not bring a stopped address back without its owner confirming again.
/// </summary>
public sealed class LinkReuseTests
{
    [Fact]
    public async Task ConfirmLink_PostedAgainAfterAnUnsubscribe_RefusedAndTheUnsubscribeStands()
    {
        await using var app = await TestApp.StartAsync();
        var subscriber = await app.AddSubscriberAsync("once@example.org", "diffusion", SubscriberStatus.Pending);
        var confirm = await WebTestData.TokenAsync(app, subscriber.Id, TokenPurpose.Confirm, DateTimeOffset.UtcNow.AddHours(72));
        using var client = app.CreateClient();
        var form = new Dictionary<string, string> { ["__RequestVerificationToken"] = WebTestData.AntiforgeryToken(await client.GetStringAsync($"confirm/{confirm}", Ct)) };

        using var first = await client.PostAsync($"confirm/{confirm}", new FormUrlEncodedContent(form), Ct);
        var confirmed = await WebTestData.StatusOfAsync(app, subscriber.Id);
        await app.ExecuteAsync("update subscribers set status = 'unsubscribed' where id = @id", ("id", subscriber.Id));
        using var again = await client.PostAsync($"confirm/{confirm}", new FormUrlEncodedContent(form), Ct);
        using var page = await client.GetAsync($"confirm/{confirm}", Ct);

        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal("active", confirmed);
        Assert.Equal(HttpStatusCode.Gone, again.StatusCode);
        Assert.Equal(HttpStatusCode.Gone, page.StatusCode);
        Assert.Contains("already used", await page.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal("unsubscribed", await WebTestData.StatusOfAsync(app, subscriber.Id));
    }

    [Fact]
    public async Task AnEarlierConfirmLink_AfterConfirmingAndUnsubscribing_RefusedAndTheUnsubscribeStands()
    {
        // The form sent twice, two mails: one link confirms; the other, clicked after an unsubscribe, must not undo it.
        await using var app = await TestApp.StartAsync();
        var subscriber = await app.AddSubscriberAsync("twice@example.org", "diffusion", SubscriberStatus.Pending);
        var firstMail = await WebTestData.TokenAsync(app, subscriber.Id, TokenPurpose.Confirm, DateTimeOffset.UtcNow.AddHours(72));
        var secondMail = await WebTestData.TokenAsync(app, subscriber.Id, TokenPurpose.Confirm, DateTimeOffset.UtcNow.AddHours(72));
        using var client = app.CreateClient();
        var form = new Dictionary<string, string> { ["__RequestVerificationToken"] = WebTestData.AntiforgeryToken(await client.GetStringAsync($"confirm/{secondMail}", Ct)) };

        using var confirmed = await client.PostAsync($"confirm/{secondMail}", new FormUrlEncodedContent(form), Ct);
        await app.ExecuteAsync("update subscribers set status = 'unsubscribed' where id = @id", ("id", subscriber.Id));
        using var earlier = await client.PostAsync($"confirm/{firstMail}", new FormUrlEncodedContent(form), Ct);

        Assert.Equal(HttpStatusCode.Redirect, confirmed.StatusCode);
        Assert.Equal(HttpStatusCode.Gone, earlier.StatusCode);
        Assert.Equal("unsubscribed", await WebTestData.StatusOfAsync(app, subscriber.Id));
    }

    [Theory]
    [InlineData("manage", SubscriberStatus.Unsubscribed)]
    [InlineData("manage", SubscriberStatus.Bounced)]
    [InlineData("unsubscribe", SubscriberStatus.Unsubscribed)]
    public async Task SubscribeAgain_FromADigestLinkOfAStoppedAddress_WaitsForAFreshConfirmation(string page, SubscriberStatus status)
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        var subscriber = await app.AddSubscriberAsync("stopped@example.org", "diffusion", status);
        var token = await WebTestData.TokenAsync(app, subscriber.Id, page == "manage" ? TokenPurpose.Manage : TokenPurpose.Unsubscribe);
        using var client = app.CreateClient();
        var form = Antiforgery.FieldsIn(await client.GetStringAsync($"{page}/{token}", Ct));

        using var again = await client.PostAsync($"{page}/{token}?handler=Resubscribe", new FormUrlEncodedContent(form), Ct);
        Assert.True(again.StatusCode is HttpStatusCode.OK or HttpStatusCode.Redirect, $"subscribe again: {again.StatusCode}");
        Assert.Equal("pending", await WebTestData.StatusOfAsync(app, subscriber.Id));
        var mail = (await app.Smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0].Parse();
        var confirmLink = app.LinkIn(mail.TextBody ?? "", "confirm/");
        var confirmForm = new Dictionary<string, string> { ["__RequestVerificationToken"] = WebTestData.AntiforgeryToken(await client.GetStringAsync(confirmLink, Ct)) };
        using var confirmed = await client.PostAsync(confirmLink, new FormUrlEncodedContent(confirmForm), Ct);

        Assert.Equal("stopped@example.org", mail.To.Mailboxes.Single().Address);
        Assert.Equal(HttpStatusCode.Redirect, confirmed.StatusCode);
        Assert.Equal("active", await WebTestData.StatusOfAsync(app, subscriber.Id));
    }

    [Theory]
    [InlineData("manage")]
    [InlineData("unsubscribe")]
    public async Task SubscribeAgain_PressedTwice_TheSecondSaysWhenTheMailWentAndSendsNoOther(string page)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
        await using var app = await TestApp.StartAsync(services: services => services.AddSingleton<TimeProvider>(clock));
        var subscriber = await app.AddSubscriberAsync("stopped@example.org", "diffusion", SubscriberStatus.Unsubscribed);
        var token = await WebTestData.TokenAsync(app, subscriber.Id, page == "manage" ? TokenPurpose.Manage : TokenPurpose.Unsubscribe);
        using var client = app.CreateClient();
        var form = Antiforgery.FieldsIn(await client.GetStringAsync($"{page}/{token}", Ct));

        using var first = await client.PostAsync($"{page}/{token}?handler=Resubscribe", new FormUrlEncodedContent(form), Ct);
        // The worker sends it (this app has none).
        await app.ExecuteAsync("update confirmation_mails set status = 'sent'");
        clock.Advance(TimeSpan.FromMinutes(2));
        using var second = await client.PostAsync($"{page}/{token}?handler=Resubscribe", new FormUrlEncodedContent(form), Ct);
        var text = WebUtility.HtmlDecode(await second.Content.ReadAsStringAsync(Ct));

        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Contains("We sent a confirmation link to stopped@example.org at 09:00 (UTC)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("on its way", text, StringComparison.Ordinal);
        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from confirmation_mails"));
    }

    [Fact]
    public async Task SubscribeAgain_PressedAgainAfterItsMailWasRefused_SendsAnotherInsteadOfClaimingTheFirstWent()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
        await using var app = await TestApp.StartAsync(services: services => services.AddSingleton<TimeProvider>(clock));
        var subscriber = await app.AddSubscriberAsync("stopped@example.org", "diffusion", SubscriberStatus.Unsubscribed);
        var token = await WebTestData.TokenAsync(app, subscriber.Id, TokenPurpose.Manage);
        using var client = app.CreateClient();

        using var first = await client.PostAsync($"manage/{token}?handler=Resubscribe", new FormUrlEncodedContent([]), Ct);
        // The mail server refused it for good (a full mailbox, since emptied).
        await app.ExecuteAsync("update confirmation_mails set status = 'failed'");
        clock.Advance(TimeSpan.FromMinutes(2));
        using var second = await client.PostAsync($"manage/{token}?handler=Resubscribe", new FormUrlEncodedContent([]), Ct);

        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, second.StatusCode);
        Assert.Equal(2L, await app.ScalarAsync<long>("select count(*) from confirmation_mails"));
    }

    [Theory]
    [InlineData("manage")]
    [InlineData("unsubscribe")]
    public async Task SubscribeAgain_PastTheHourlyLimit_SaysWhenToTryAgainAndLeavesTheAddressUnsubscribed(string page)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
        await using var app = await TestApp.StartAsync(services: services => services.AddSingleton<TimeProvider>(clock));
        var subscriber = await app.AddSubscriberAsync("stopped@example.org", "diffusion", SubscriberStatus.Unsubscribed);
        // The limit's three mails went out in the last hour (someone typed the address into the subscribe form).
        foreach (var minutesAgo in new[] { 40, 25, 10 })
        {
            await app.ExecuteAsync("insert into confirmation_mails (subscriber_id, created_at) values (@id, @at)",
                ("id", subscriber.Id), ("at", clock.GetUtcNow().AddMinutes(-minutesAgo)));
        }
        var token = await WebTestData.TokenAsync(app, subscriber.Id, page == "manage" ? TokenPurpose.Manage : TokenPurpose.Unsubscribe);
        using var client = app.CreateClient();
        var form = Antiforgery.FieldsIn(await client.GetStringAsync($"{page}/{token}", Ct));

        using var again = await client.PostAsync($"{page}/{token}?handler=Resubscribe", new FormUrlEncodedContent(form), Ct);
        var text = WebUtility.HtmlDecode(await again.Content.ReadAsStringAsync(Ct));

        // As the subscribe form and the pending reader's "Send the confirmation mail again" answer past the limit.
        Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
        Assert.Equal(TimeSpan.FromMinutes(20), again.Headers.RetryAfter?.Delta);
        Assert.Contains("Too many mails went to stopped@example.org this hour: nothing was sent. Try again after 09:20 (UTC).", text, StringComparison.Ordinal);
        Assert.Contains("Subscribe again", text, StringComparison.Ordinal);
        Assert.Equal(3L, await app.ScalarAsync<long>("select count(*) from confirmation_mails"));
        Assert.Equal("unsubscribed", await WebTestData.StatusOfAsync(app, subscriber.Id));
    }

    [Fact]
    public async Task AlreadySubscribedMail_ItsManageLink_WorksAsLongAsAConfirmationLinkThenSaysItExpired()
    {
        // Anyone may type a subscribed address into the form: each time its owner gets a manage link, which must not last for ever.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await TestApp.StartAsync(smtp, services: services => services.AddSingleton<TimeProvider>(clock));
        var reader = await app.AddSubscriberAsync("reader@example.org", "diffusion");
        var mailId = await app.Services.GetRequiredService<ConfirmationMails>().TryRequestAsync(reader.Id, 3, Ct);
        await app.Services.GetRequiredService<ConfirmationMailJob>().RunAsync(mailId!.Value, Ct);
        var mail = (await smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0].Parse();
        var manage = app.LinkIn(mail.TextBody ?? "", "manage/");
        using var client = app.CreateClient();

        using var fresh = await client.GetAsync(manage, Ct);
        clock.Advance(TimeSpan.FromHours(72) + TimeSpan.FromMinutes(1));
        using var later = await client.GetAsync(manage, Ct);

        Assert.Contains("The link works for 72 hours", mail.TextBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal(HttpStatusCode.Gone, later.StatusCode);
        Assert.Contains("This link has expired", await later.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SubscriberStatus.Unsubscribed, "<strong>reader@example.org</strong> is unsubscribed: no digests go to it.")]
    [InlineData(SubscriberStatus.Bounced, "No digests go to <strong>reader@example.org</strong>: mail to it bounced.")]
    public async Task UnsubscribeLink_OfAnAddressThatGetsNoDigests_SaysWhyAndOffersToSubscribeAgain(SubscriberStatus status, string says)
    {
        // Opened again once unsubscribed, or for an address whose mail bounced: nothing is being sent to stop.
        await using var app = await TestApp.StartAsync();
        var subscriber = await app.AddSubscriberAsync("reader@example.org", "diffusion", status);
        var token = await WebTestData.TokenAsync(app, subscriber.Id, TokenPurpose.Unsubscribe);
        using var client = app.CreateClient();

        var page = await client.GetStringAsync($"unsubscribe/{token}", Ct);

        Assert.DoesNotContain("Stop sending", page, StringComparison.Ordinal);
        Assert.Contains(says, page, StringComparison.Ordinal);
        Assert.Contains($"action=\"/unsubscribe/{token}?handler=Resubscribe\"", page, StringComparison.Ordinal);
        Assert.Equal(Newsletter.Database.DbNames.ToDb(status), await WebTestData.StatusOfAsync(app, subscriber.Id));
    }

    [Fact]
    public async Task ConfirmLink_OfTheFirstOfTwoRequests_ShowsTheKeywordsItWillConfirm()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        using var client = app.CreateClient();
        async Task SubscribeAsync(string interests)
        {
            var token = Antiforgery.TokenIn(await client.GetStringAsync("subscribe", Ct));
            using var response = await client.PostAsync("subscribe", new FormUrlEncodedContent(
                [new("__RequestVerificationToken", token), new("Email", "twice@example.org"), new("Interests", interests), new("Format", "Html")]), Ct);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        }
        // The second request, with a slip in it, replaces the first line; the reader opens the first mail.
        await SubscribeAsync("diffusion \"low-rank\"");
        await SubscribeAsync("difusion");
        var first = (await app.Smtp.WaitForMessagesAsync(2, cancellationToken: Ct))[0].Parse();

        var page = await client.GetStringAsync(app.LinkIn(first.TextBody ?? "", "confirm/"), Ct);

        Assert.Contains("Your keywords: <code dir=\"auto\">difusion</code>", page, StringComparison.Ordinal);
        Assert.Equal("difusion", await app.ScalarAsync<string>("select interests from subscribers"));
    }

    [Fact]
    public async Task ConfirmLink_OpenedAgainWithTheBackButtonAfterConfirming_SaysTheAddressIsSubscribed()
    {
        await using var app = await TestApp.StartAsync();
        var subscriber = await app.AddSubscriberAsync("back@example.org", "diffusion", SubscriberStatus.Pending);
        var confirm = await WebTestData.TokenAsync(app, subscriber.Id, TokenPurpose.Confirm, DateTimeOffset.UtcNow.AddHours(72));
        using var client = app.CreateClient();
        var form = new Dictionary<string, string> { ["__RequestVerificationToken"] = WebTestData.AntiforgeryToken(await client.GetStringAsync($"confirm/{confirm}", Ct)) };
        using var first = await client.PostAsync($"confirm/{confirm}", new FormUrlEncodedContent(form), Ct);
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);

        // Back to the confirm page, and its button pressed again (or pressed in a second tab).
        using var back = await client.GetAsync($"confirm/{confirm}", Ct);
        using var again = await client.PostAsync($"confirm/{confirm}", new FormUrlEncodedContent(form), Ct);

        foreach (var response in new[] { back, again })
        {
            var page = await response.Content.ReadAsStringAsync(Ct);
            Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
            Assert.Contains("This link was already used: <strong>back@example.org</strong> is subscribed.", page, StringComparison.Ordinal);
            Assert.DoesNotContain("subscribe again", page, StringComparison.Ordinal);
        }
        Assert.Equal("active", await WebTestData.StatusOfAsync(app, subscriber.Id));
    }
}
