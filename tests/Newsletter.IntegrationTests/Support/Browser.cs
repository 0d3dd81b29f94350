using Microsoft.Playwright;

namespace Newsletter.IntegrationTests.Support;

/// <summary>
/// Real Chromium (Debian's /usr/bin/chromium, installed by the test script) driven by Playwright; Playwright's own
/// browser download is never used. Screenshots land in the test artifacts folder.
/// </summary>
internal sealed class Browser : IAsyncDisposable
{
    private readonly IPlaywright playwright;
    private readonly IBrowser browser;

    private Browser(IPlaywright playwright, IBrowser browser)
    {
        this.playwright = playwright;
        this.browser = browser;
    }

    public static async Task<Browser> LaunchAsync()
    {
        const string chromium = "/usr/bin/chromium";
        if (!File.Exists(chromium))
        {
            throw new InvalidOperationException($"{chromium} is missing: run tests/run.sh, which installs it.");
        }
        // Playwright's defaults (5 s for an expectation) assume a quiet desktop; CI is two shared cores where the first
        // request to a page also compiles its Razor view. Patience costs nothing when the page is right.
        Assertions.SetDefaultExpectTimeout(30_000);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            // This machine has no network beyond loopback: keep Chromium from trying.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync"],
        });
        return new Browser(playwright, browser);
    }

    public async Task<IPage> NewPageAsync(Uri baseAddress)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseAddress.ToString() });
        context.SetDefaultTimeout(60_000);
        context.SetDefaultNavigationTimeout(60_000);
        return await context.NewPageAsync();
    }

    /// <summary>Saves a full-page screenshot as a test artifact, named after the test and the step.</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(TestEnvironment.ArtifactsDirectory, "screenshots", $"{name}.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}
