using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Newsletter.Inbox;
using Newsletter.Mail;

namespace Newsletter.Tests.Bounces;

/// <summary>The settings of bounce handling, checked at start with messages that name the key.</summary>
public sealed class BounceSettingsTests
{
    [Theory]
    [InlineData("Processed")]
    [InlineData("Quarantine")]
    public void Validate_ReportsFolderIsWhereReadMailGoes_FailsNamingTheKey(string folder)
    {
        var validator = new InboxSettingsValidator(new ConfigurationBuilder().Build());

        var result = validator.Validate(null, Imap(folder));

        Assert.True(result.Failed);
        Assert.Contains("Newsletter:Imap:ReportsFolder", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bounces")]
    [InlineData("INBOX")]
    public void Validate_ReportsFolderUnsetOrOwnFolder_Passes(string? folder)
    {
        var validator = new InboxSettingsValidator(new ConfigurationBuilder().Build());

        Assert.True(validator.Validate(null, Imap(folder)).Succeeded);
    }

    [Theory]
    [InlineData("bounces.lab.example.org", true)]
    [InlineData(null, true)]
    [InlineData("bounces+x@lab.example.org", false)]
    [InlineData("localhost", false)]
    public void MailOptions_BounceDomain_MustBeADomainName(string? domain, bool valid)
    {
        var options = new MailOptions { From = "digest@lab.example.org", ListId = "papers.lab.example.org", BounceDomain = domain };
        var results = new List<ValidationResult>();

        Assert.Equal(valid, Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        Assert.Equal(!valid, results.Any(r => r.ErrorMessage!.Contains("BounceDomain", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("00:10:00", false)]
    [InlineData("1.00:00:00", true)]
    [InlineData("90.00:00:00", true)]
    [InlineData("3651.00:00:00", false)]
    public void InboxOptions_ReportRetention_FromADayToTenYears(string retention, bool valid)
    {
        var options = new InboxOptions { ReportRetention = TimeSpan.Parse(retention, System.Globalization.CultureInfo.InvariantCulture) };
        var results = new List<ValidationResult>();

        Assert.Equal(valid, Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        Assert.Equal(!valid, results.Any(r => r.MemberNames.Contains(nameof(InboxOptions.ReportRetention))));
    }

    [Fact]
    public void InboxOptions_Defaults_KeepReportsNinetyDays() => Assert.Equal(TimeSpan.FromDays(90), new InboxOptions().ReportRetention);

    private static ImapOptions Imap(string? reportsFolder) =>
        new() { Host = "imap.example.org", Username = "papers", Password = "secret", ReportsFolder = reportsFolder };
}
