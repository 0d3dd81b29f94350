using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Xunit;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>The admin pages keep their looks under the site's Content-Security-Policy, which allows no inline style.</summary>
public sealed class AdminPageStyleTests
{
    [Fact]
    public async Task AdminPages_InChromiumUnderTheSiteCsp_ShowTheirStyles()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var app = await TestApp.StartAsync(connectionString: database.ConnectionString);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(app.Address);

        var login = await page.GotoAsync("admin/login");
        var background = await page.EvaluateAsync<string>("getComputedStyle(document.body).backgroundColor");
        await page.FillAsync("input[name=password]", TestApp.AdminPassword);
        await page.ClickAsync("main button[type=submit]");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/admin$"));
        await Assertions.Expect(page.Locator("body > header")).ToHaveCSSAsync("background-color", "rgb(34, 34, 59)");
        await Browser.ScreenshotAsync(page, "admin-overview-styled");

        Assert.Contains("style-src 'self'", (await login!.AllHeadersAsync())["content-security-policy"], StringComparison.Ordinal);
        Assert.Equal("rgb(246, 246, 248)", background);
    }
}
