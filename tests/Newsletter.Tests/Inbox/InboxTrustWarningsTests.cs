using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Newsletter.Hosting;
using Newsletter.Inbox;

namespace Newsletter.Tests.Inbox;

public sealed partial class InboxTrustWarningsTests
{
    [Fact]
    public void Find_AllowedSenderWithoutDkimRequirement_WarnsThatItCanBeForged()
    {
        var warning = Assert.Single(InboxTrustWarnings.Find(new InboxOptions { AllowedSenders = ["papers@notifications.huggingface.co"] }));

        Assert.Equal("Newsletter:Inbox:AllowedSenders has 'papers@notifications.huggingface.co', but Newsletter:Inbox:RequireDkimFor does not cover "
            + "notifications.huggingface.co: anyone can forge its From header, and the forgery becomes an issue sent to every subscriber.", warning);
    }

    [Theory]
    [InlineData("papers@notifications.huggingface.co", "notifications.huggingface.co")]
    [InlineData("papers@notifications.huggingface.co", "huggingface.co")]
    [InlineData("notifications.huggingface.co", "huggingface.co")]
    public void Find_SenderCoveredByDkimRequirement_NoWarning(string sender, string requireDkimFor)
    {
        Assert.Empty(InboxTrustWarnings.Find(new InboxOptions { AllowedSenders = [sender], RequireDkimFor = [requireDkimFor] }));
    }

    [Fact]
    public void Find_AllowedDomainWiderThanTheDkimRequirement_Warns()
    {
        // Any subdomain of huggingface.co may send; only one of them has to sign.
        var options = new InboxOptions { AllowedSenders = ["huggingface.co"], RequireDkimFor = ["notifications.huggingface.co"] };

        Assert.Single(InboxTrustWarnings.Find(options));
    }

    [Theory]
    [InlineData("deploy/appsettings.Production.example.json")]
    [InlineData("deploy/systemd/newsletter.env.example")]
    [InlineData("deploy/compose.yaml")]
    public void DeployExample_InboxSettings_RequireDkimForEveryAllowedSender(string file)
    {
        var options = new InboxOptions();
        ReadExample(Path.Combine(Repository.Root(), file)).GetSection(InboxOptions.Section).Bind(options);

        Assert.NotEmpty(options.AllowedSenders);
        Assert.Empty(InboxTrustWarnings.Find(options));
    }

    // The JSON as configuration; environment files and compose's environment block as KEY=value or KEY: value lines.
    private static IConfiguration ReadExample(string path)
    {
        if (path.EndsWith(".json", StringComparison.Ordinal))
        {
            return new ConfigurationBuilder().AddJsonFile(path).Build();
        }

        var values = new Dictionary<string, string?>();
        foreach (var line in File.ReadLines(path))
        {
            if (EnvironmentLine().Match(line) is { Success: true } match)
            {
                values[match.Groups["key"].Value.Replace("__", ":", StringComparison.Ordinal)] = match.Groups["value"].Value.Trim().Trim('"');
            }
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    [GeneratedRegex("""^\s*(?<key>Newsletter__[A-Za-z0-9_]+)\s*[=:]\s*(?<value>.*)$""")]
    private static partial Regex EnvironmentLine();
}
