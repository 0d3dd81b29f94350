using Microsoft.Playwright;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Web;

/// <summary>The reader's choices on the manage page, in real Chromium: weekly on a weekday in their time zone, and no repeats.</summary>
public sealed class WeeklyChoicesBrowserTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ManagePage_ReaderChoosesWeeklyOnFridayInBerlinWithRepeats_SavedAndShownAgain()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("chooser@example.org", "diffusion");
        var manage = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Manage);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(app.Address);
        const string Name = nameof(ManagePage_ReaderChoosesWeeklyOnFridayInBerlinWithRepeats_SavedAndShownAgain);

        await page.GotoAsync($"/manage/{manage}");
        await Assertions.Expect(page.GetByLabel("A digest for every issue")).ToBeCheckedAsync();
        await Assertions.Expect(page.GetByLabel("Leave out papers I was already sent")).ToBeCheckedAsync();
        // A time zone the system does not know is refused where it was typed, and nothing is saved.
        await page.GetByLabel("One digest a week").CheckAsync();
        await page.GetByLabel("In the time zone").FillAsync("Mars/Olympus");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(page.Locator("#time-zone-error")).ToContainTextAsync("Mars/Olympus");
        Assert.Equal("daily", await app.ScalarAsync<string>("select frequency from subscribers"));

        await page.GetByLabel("One digest a week").CheckAsync();
        await page.GetByLabel("Weekly on").SelectOptionAsync("Friday");
        await page.GetByLabel("In the time zone").FillAsync("Europe/Berlin");
        await page.GetByLabel("Leave out papers I was already sent").UncheckAsync();
        await Browser.ScreenshotAsync(page, $"{Name}-1-choices");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Assertions.Expect(page.Locator(".notice")).ToContainTextAsync("Saved");

        Assert.Equal(["weekly|5|Europe/Berlin|False"],
            await app.RowsAsync("select frequency || '|' || weekday || '|' || time_zone || '|' || case when no_repeats then 'True' else 'False' end from subscribers"));
        await page.GotoAsync($"/manage/{manage}");
        await Assertions.Expect(page.GetByLabel("One digest a week")).ToBeCheckedAsync();
        await Assertions.Expect(page.GetByLabel("Weekly on")).ToHaveValueAsync("Friday");
        await Assertions.Expect(page.GetByLabel("In the time zone")).ToHaveValueAsync("Europe/Berlin");
        await Assertions.Expect(page.GetByLabel("Leave out papers I was already sent")).Not.ToBeCheckedAsync();
        await Browser.ScreenshotAsync(page, $"{Name}-2-shown-again");
    }
}
