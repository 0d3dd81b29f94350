using Microsoft.Playwright;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Web;

/// <summary>A subscriber's whole path through the pages in real Chromium, with the confirmation mail read from SMTP.</summary>
public sealed class SubscriptionBrowserTests
{
    [Fact]
    public async Task Subscribe_ConfirmManageUnsubscribe_InChromium_EachStepWorks()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        await app.IngestSampleAsync();
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(app.Address);
        const string Name = nameof(Subscribe_ConfirmManageUnsubscribe_InChromium_EachStepWorks);

        // Subscribe, with a server-side preview first.
        await page.GotoAsync("/");
        await page.GetByLabel("Email address").FillAsync("reader@example.org");
        await page.GetByLabel("Interests").FillAsync("diffusion");
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview" }).ClickAsync();
        await Assertions.Expect(page.Locator("#preview-summary")).ToContainTextAsync("of the 70 papers");
        var subscribePreview = await page.Locator("#preview-summary").TextContentAsync();
        await Browser.ScreenshotAsync(page, $"{Name}-1-subscribe");
        await page.GetByRole(AriaRole.Button, new() { Name = "Subscribe" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Check your inbox" })).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, $"{Name}-2-check-inbox");

        // The confirmation mail, its link moved to the test server.
        var mail = (await app.Smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0].Parse();
        Assert.Equal("reader@example.org", mail.To.Mailboxes.Single().Address);
        Assert.Equal("digest@lab.test.example", mail.From.Mailboxes.Single().Address);
        Assert.Contains("/confirm/", mail.HtmlBody, StringComparison.Ordinal);
        var confirmLink = app.LinkIn(mail.TextBody ?? "", "confirm/");
        Assert.Equal("pending", await app.ScalarAsync<string>("select status from subscribers"));

        await page.GotoAsync(confirmLink);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Confirm subscription" })).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, $"{Name}-3-confirm");
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm subscription" }).ClickAsync();
        await Assertions.Expect(page.Locator(".notice")).ToContainTextAsync("confirmed");
        Assert.Equal("active", await app.ScalarAsync<string>("select status from subscribers"));
        Assert.Matches("/manage/[A-Za-z0-9_-]{22}", page.Url);
        await Browser.ScreenshotAsync(page, $"{Name}-4-manage");

        // Manage: a mistake is shown where it was typed and kept as typed; then a valid change moves the preview.
        await page.GetByLabel("Interests").FillAsync("video \"unclosed");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(page.Locator("#interests-error")).ToContainTextAsync("never closed");
        await Assertions.Expect(page.GetByLabel("Interests")).ToHaveValueAsync("video \"unclosed");
        await Assertions.Expect(page.GetByLabel("Interests")).ToHaveAttributeAsync("aria-describedby", "interests-error interests-help");
        await Browser.ScreenshotAsync(page, $"{Name}-5-manage-error");
        await page.GetByLabel("Interests").FillAsync("video");
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview" }).ClickAsync();
        await Assertions.Expect(page.Locator("#preview-summary")).Not.ToHaveTextAsync(subscribePreview!);
        await page.GetByLabel("Plain text").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(page.Locator(".notice")).ToContainTextAsync("Saved");
        await Browser.ScreenshotAsync(page, $"{Name}-6-manage-saved");
        Assert.Equal("video", await app.ScalarAsync<string>("select interests from subscribers"));
        Assert.Equal("text", await app.ScalarAsync<string>("select format from subscribers"));

        // Unsubscribe through a digest's link, then come back with the button on the same page.
        var subscriberId = await app.ScalarAsync<long>("select id from subscribers");
        var unsubscribe = await WebTestData.TokenAsync(app, subscriberId, TokenPurpose.Unsubscribe);
        await page.GotoAsync($"/unsubscribe/{unsubscribe}");
        await Browser.ScreenshotAsync(page, $"{Name}-7-unsubscribe");
        await page.GetByRole(AriaRole.Button, new() { Name = "Unsubscribe" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "You are unsubscribed" })).ToBeVisibleAsync();
        Assert.Equal("unsubscribed", await app.ScalarAsync<string>("select status from subscribers"));
        await Browser.ScreenshotAsync(page, $"{Name}-8-unsubscribed");
        // Coming back takes a fresh confirmation: whoever holds the digest link may not be its owner.
        await page.GetByRole(AriaRole.Button, new() { Name = "Subscribe again" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Check your inbox" })).ToBeVisibleAsync();
        Assert.Equal("pending", await app.ScalarAsync<string>("select status from subscribers"));
        var again = (await app.Smtp.WaitForMessagesAsync(2, cancellationToken: Ct))[1].Parse();
        await page.GotoAsync(app.LinkIn(again.TextBody ?? "", "confirm/"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm subscription" }).ClickAsync();
        await Assertions.Expect(page.Locator(".notice")).ToContainTextAsync("confirmed");
        Assert.Equal("active", await app.ScalarAsync<string>("select status from subscribers"));

        // The public web copy of the issue.
        var issueId = await app.ScalarAsync<long>("select id from issues");
        await page.GotoAsync($"/issues/{issueId}");
        Assert.Equal(70, await page.Locator("article.paper").CountAsync());
        await Browser.ScreenshotAsync(page, $"{Name}-9-issue");
    }

    [Fact]
    public async Task PersonalPages_LongAddressInPhoneWidthWindow_ShowTheWholeAddressWithinTheWindow()
    {
        await using var app = await TestApp.StartAsync();
        await app.IngestSampleAsync();
        // A university address of 45 characters with no space or hyphen to break at: wider than a phone's column in bold.
        const string Address = "konstantinos.papadopoulos@student.utoronto.ca";
        var reader = await WebTestData.SubscriberAsync(app, Address, SubscriberStatus.Pending);
        var confirm = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Confirm);
        var manage = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Manage);
        var unsubscribe = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Unsubscribe);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(app.Address);
        await page.SetViewportSizeAsync(375, 800);

        var widths = new List<string>();
        async Task MeasureAsync(string step)
        {
            await Browser.ScreenshotAsync(page, $"{nameof(PersonalPages_LongAddressInPhoneWidthWindow_ShowTheWholeAddressWithinTheWindow)}-{step}");
            var width = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
            var right = await page.EvaluateAsync<double>("Math.max(...[...document.querySelectorAll('main strong')].map(e => e.getBoundingClientRect().right))");
            widths.Add($"{step}: page {width} px, address ends at {right:0} px");
        }
        await page.GotoAsync($"/confirm/{confirm}");
        await MeasureAsync("confirm");
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm subscription" }).ClickAsync();
        await Assertions.Expect(page.Locator(".notice")).ToContainTextAsync("confirmed");
        await page.GotoAsync($"/manage/{manage}");
        await MeasureAsync("manage");
        await page.GotoAsync($"/unsubscribe/{unsubscribe}");
        await MeasureAsync("unsubscribe");
        await page.GetByRole(AriaRole.Button, new() { Name = "Unsubscribe" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "You are unsubscribed" })).ToBeVisibleAsync();
        await MeasureAsync("unsubscribed");

        Assert.All(widths, line => Assert.Matches(@": page 375 px, address ends at ([12]?\d?\d|3[0-6]\d|37[0-5]) px$", line));
    }
}
