using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Newsletter.Inbox;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>The admin area in real Chromium against the whole application (web + worker) and a real SMTP server.</summary>
[Collection(SerialHangfireTests.Name)]
public sealed class AdminBrowserTests
{
    [Fact]
    public async Task AdminResendsSampleToOneSubscriber_InBrowser_DigestArrivesAtSmtp()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        var issue = await app.IngestSamplePapersSayingAsync("diffusion");
        var stranger = Samples.ToBytes(Samples.Listing(new DateOnly(2025, 3, 12), Samples.SamplePapers().Take(3), from: "papers@elsewhere.example"));
        var quarantined = await app.Services.GetRequiredService<MessageIngestor>()
            .IngestAsync(new InboundMail(stranger, stranger.Length, "cli"), Ct);
        Assert.Equal(IngestStatus.Quarantined, quarantined.Status);
        // Generation 1 went to nobody; the reader joins afterwards.
        await Eventually.WaitAsync(() => app.ScalarAsync<bool>(
            "select fanned_out_at is not null from delivery_generations where issue_id = @issue and generation = 1", ("issue", issue)), "generation 1 fan-out");
        var reader = await app.AddSubscriberAsync("reader@lab.test.example");
        await app.AddSubscriberAsync("other@lab.test.example");

        await using var browser = await Support.Browser.LaunchAsync();
        var page = await browser.NewPageAsync(app.Address);
        await page.GotoAsync("admin");
        Assert.Contains("/admin/login", page.Url, StringComparison.Ordinal);
        await Support.Browser.ScreenshotAsync(page, "admin-login");
        await page.FillAsync("input[name=password]", TestApp.AdminPassword);
        await page.ClickAsync("main button[type=submit]");
        // Polls the address, never a load event: WaitForURLAsync waits for `load` once the URL already matches, even when
        // told to wait for the commit only (playwright-dotnet#3365), and hung there for 60 s in two full runs.
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/admin$"));
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Overview");
        await Support.Browser.ScreenshotAsync(page, "admin-overview");

        await page.GotoAsync($"admin/issues/{issue}/resend");
        await page.CheckAsync("input[name=scope][value=one]");
        await page.FillAsync("input[name=email]", "reader@lab.test.example");
        await page.ClickAsync("button[name=preview]");
        await Assertions.Expect(page.Locator("#recipients")).ToHaveTextAsync("1");
        await Support.Browser.ScreenshotAsync(page, "admin-resend-preview");
        await page.ClickAsync("#confirm button[type=submit]");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("generation=2"));

        // Generous: on two shared cores the first digest also pays for compiling the templates.
        var received = await app.Smtp.WaitForMessagesAsync(1, TimeSpan.FromSeconds(120), Ct);
        Assert.Equal(["reader@lab.test.example"], received[0].Recipients);
        Assert.Contains("papers for you", received[0].Parse().Subject, StringComparison.Ordinal);
        await Eventually.WaitAsync(async () => await app.ScalarAsync<long>(
            "select count(*) from deliveries where issue_id = @issue and generation = 2 and status = 'sent'", ("issue", issue)) == 1, "the sent row", TimeSpan.FromSeconds(60));
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#progress td[data-status=sent]")).ToHaveTextAsync("1");
        await Support.Browser.ScreenshotAsync(page, "admin-resend-progress");
        Assert.Single(app.Smtp.Received);

        await page.GotoAsync($"admin/issues/{issue}");
        await Assertions.Expect(page.Locator("body")).ToContainTextAsync("admin:admin");
        await Support.Browser.ScreenshotAsync(page, "admin-issue");
        var delivery = await app.ScalarAsync<long>(
            "select id from deliveries where issue_id = @issue and generation = 2", ("issue", issue));
        await page.GotoAsync($"admin/deliveries/{delivery}/digest");
        await Assertions.Expect(page.Locator("body")).ToContainTextAsync("reader@lab.test.example");
        await Support.Browser.ScreenshotAsync(page, "admin-digest");

        await page.GotoAsync("admin/subscribers");
        await Assertions.Expect(page.Locator("#subscribers")).ToContainTextAsync("reader@lab.test.example");
        await Support.Browser.ScreenshotAsync(page, "admin-subscribers");
        await page.GotoAsync($"admin/subscribers/{reader.Id}");
        await Support.Browser.ScreenshotAsync(page, "admin-subscriber");

        await page.GotoAsync("admin/quarantine");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("papers@elsewhere.example");
        await Support.Browser.ScreenshotAsync(page, "admin-quarantine");
        await page.GotoAsync($"admin/quarantine/{quarantined.InboundMessageId}");
        await Assertions.Expect(page.Locator("#headers")).ToContainTextAsync("From:");
        await Assertions.Expect(page.Locator("#text")).ToContainTextAsync("Get trending papers");
        await Support.Browser.ScreenshotAsync(page, "admin-quarantined-message");

        await page.GotoAsync("admin/jobs");
        await Assertions.Expect(page.Locator("body")).ToContainTextAsync("Newsletter jobs");
        await Support.Browser.ScreenshotAsync(page, "admin-jobs");
    }
}
