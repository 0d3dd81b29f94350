using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Web;

/// <summary>
/// A reader waiting for confirmation (they pressed "Subscribe again", or typed their address into the form once
/// unsubscribed) may open an older manage link: the page sends the confirmation mail again, within the hourly limit.
/// </summary>
public sealed class PendingReaderManageTests
{
    private const string Button = "Send the confirmation mail again";

    [Fact]
    public async Task ManagePage_OfAPendingReader_SendsTheConfirmationMailAgainAndItsLinkConfirms()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        var reader = await app.AddSubscriberAsync("pending@example.org", "diffusion", SubscriberStatus.Pending);
        var manage = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Manage);
        using var client = app.CreateClient();

        var page = await client.GetStringAsync($"manage/{manage}", Ct);
        using var pressed = await client.PostAsync($"manage/{manage}?handler=SendConfirmation", new FormUrlEncodedContent([]), Ct);
        var mail = (await app.Smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0].Parse();
        await Eventually.WaitAsync(async () => await app.ScalarAsync<string>("select status from confirmation_mails") == "sent", "the mail recorded as sent");
        using var pressedAgain = await client.PostAsync($"manage/{manage}?handler=SendConfirmation", new FormUrlEncodedContent([]), Ct);
        var again = WebUtility.HtmlDecode(await pressedAgain.Content.ReadAsStringAsync(Ct));
        var confirmLink = app.LinkIn(mail.TextBody ?? "", "confirm/");
        var confirmForm = new Dictionary<string, string> { ["__RequestVerificationToken"] = WebTestData.AntiforgeryToken(await client.GetStringAsync(confirmLink, Ct)) };
        using var confirmed = await client.PostAsync(confirmLink, new FormUrlEncodedContent(confirmForm), Ct);
        var afterwards = await client.GetStringAsync($"manage/{manage}", Ct);

        Assert.Contains($"<button type=\"submit\" formaction=\"/manage/{manage}?handler=SendConfirmation\" class=\"primary\">{Button}</button>", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, pressed.StatusCode);
        Assert.Equal("pending@example.org", mail.To.Mailboxes.Single().Address);
        Assert.Equal(HttpStatusCode.OK, pressedAgain.StatusCode);
        Assert.Contains("We sent a confirmation link to pending@example.org at ", again, StringComparison.Ordinal);
        Assert.Single(app.Smtp.Received);
        Assert.Equal(HttpStatusCode.Redirect, confirmed.StatusCode);
        Assert.Equal("active", await WebTestData.StatusOfAsync(app, reader.Id));
        Assert.Contains("<strong id=\"status\">active</strong>", afterwards, StringComparison.Ordinal);
        Assert.DoesNotContain(Button, afterwards, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ManagePage_AfterTheConfirmationMailWasDeferredThroughItsLastRetry_SendsAnotherInsteadOfSayingItIsBeingSent()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await TestApp.StartAsync(smtp, services: services => services.AddSingleton<TimeProvider>(clock));
        var reader = await app.AddSubscriberAsync("pending@example.org", "diffusion", SubscriberStatus.Pending);
        var manage = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Manage);
        using var client = app.CreateClient();
        using var pressed = await client.PostAsync($"manage/{manage}?handler=SendConfirmation", new FormUrlEncodedContent([]), Ct);
        var mailId = await app.ScalarAsync<long>("select id from confirmation_mails");
        var job = app.Services.GetRequiredService<ConfirmationMailJob>();

        // The server defers every attempt; the worker runs the job first, then (this app has none) as Hangfire's last retry would.
        smtp.FailNextAttempts(int.MaxValue, 451, SmtpStage.MailFrom, "4.3.2 System not accepting network messages");
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => job.RunAsync(mailId, Ct));
        clock.Advance(TimeSpan.FromMinutes(19));
        // Past the deadline the attempt records the mail failed instead of throwing for another retry.
        await job.RunAsync(mailId, Ct);
        using var pressedAgain = await client.PostAsync($"manage/{manage}?handler=SendConfirmation", new FormUrlEncodedContent([]), Ct);
        var again = WebUtility.HtmlDecode(await pressedAgain.Content.ReadAsStringAsync(Ct));

        Assert.Equal(HttpStatusCode.Redirect, pressed.StatusCode);
        Assert.DoesNotContain("is being sent", again, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, pressedAgain.StatusCode);
        var first = await app.ReadAsync("select status, reply from confirmation_mails where id = @id", r => (r.GetString(0), r.GetString(1)), ("id", mailId));
        Assert.Equal("failed", first[0].Item1);
        Assert.Contains("451 4.3.2 System not accepting network messages", first[0].Item2, StringComparison.Ordinal);
        Assert.Equal(2L, await app.ScalarAsync<long>("select count(*) from confirmation_mails"));
    }

    [Fact]
    public async Task ConfirmationMail_FirstAttemptLongAfterItWasAskedFor_ADeferralIsRetriedNotRecordedFailed()
    {
        // The worker was down for half an hour: the mail's first attempt meets greylisting (a 4xx for a new sender).
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await TestApp.StartAsync(smtp, services: services => services.AddSingleton<TimeProvider>(clock));
        var reader = await app.AddSubscriberAsync("pending@example.org", "diffusion", SubscriberStatus.Pending);
        var mailId = (await app.Services.GetRequiredService<ConfirmationMails>().TryRequestAsync(reader.Id, 3, Ct))!.Value;
        var job = app.Services.GetRequiredService<ConfirmationMailJob>();
        clock.Advance(TimeSpan.FromMinutes(30));
        smtp.FailNextAttempts(1, 450, SmtpStage.MailFrom, "4.7.1 Greylisted, try again later");

        var firstAttempt = await Record.ExceptionAsync(() => job.RunAsync(mailId, Ct));
        var afterFirst = await app.ScalarAsync<string>("select status from confirmation_mails");
        clock.Advance(TimeSpan.FromSeconds(30));
        await job.RunAsync(mailId, Ct);

        Assert.IsType<InvalidOperationException>(firstAttempt);
        Assert.Equal("pending", afterFirst);
        Assert.Equal("sent", await app.ScalarAsync<string>("select status from confirmation_mails"));
        Assert.Single(smtp.Received);
    }

    [Fact]
    public async Task ManagePage_OfAPendingReaderPastTheHourlyLimit_SendsNothingAnd429SaysWhenToTryAgain()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
        await using var app = await TestApp.StartAsync(services: services => services.AddSingleton<TimeProvider>(clock));
        var reader = await app.AddSubscriberAsync("pending@example.org", "diffusion", SubscriberStatus.Pending);
        // The hour's three mails were asked for and refused by the reader's mail server (a full mailbox, since emptied).
        foreach (var minutesAgo in new[] { 40, 25, 10 })
        {
            await app.ExecuteAsync("insert into confirmation_mails (subscriber_id, created_at, status) values (@id, @at, 'failed')",
                ("id", reader.Id), ("at", clock.GetUtcNow().AddMinutes(-minutesAgo)));
        }
        var manage = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Manage);
        using var client = app.CreateClient();

        using var pressed = await client.PostAsync($"manage/{manage}?handler=SendConfirmation", new FormUrlEncodedContent([]), Ct);
        var text = WebUtility.HtmlDecode(await pressed.Content.ReadAsStringAsync(Ct));

        Assert.Equal(HttpStatusCode.TooManyRequests, pressed.StatusCode);
        Assert.Equal(TimeSpan.FromMinutes(20), pressed.Headers.RetryAfter?.Delta);
        Assert.Contains("Too many mails went to pending@example.org this hour: nothing was sent. Try again after 09:20 (UTC).", text, StringComparison.Ordinal);
        Assert.Contains(Button, text, StringComparison.Ordinal);
        Assert.Equal(3L, await app.ScalarAsync<long>("select count(*) from confirmation_mails"));
        Assert.Equal("pending", await WebTestData.StatusOfAsync(app, reader.Id));
    }
}
