using Newsletter.IntegrationTests.Support;
using Xunit;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>An allowed sender whose mail need not be signed is shown to the admin as one anyone can forge.</summary>
public sealed class SenderTrustWarningTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Overview_AllowedSenderWithoutDkimRequirement_ShowsTheWarning()
    {
        await using var app = await TestApp.StartAsync();
        using var admin = await AdminTestKit.SignedInClientAsync(app);

        var html = await admin.GetStringAsync("admin", Ct);

        Assert.Contains("Newsletter:Inbox:AllowedSenders has &#x27;huggingface.co&#x27;, but Newsletter:Inbox:RequireDkimFor does not cover huggingface.co", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Overview_EveryAllowedSenderMustSign_ShowsNoWarning()
    {
        var settings = new Dictionary<string, string?> { ["Newsletter:Inbox:RequireDkimFor:0"] = "huggingface.co" };
        await using var app = await TestApp.StartAsync(settings: settings);
        using var admin = await AdminTestKit.SignedInClientAsync(app);

        var html = await admin.GetStringAsync("admin", Ct);

        Assert.DoesNotContain("trust-warnings", html, StringComparison.Ordinal);
    }
}
