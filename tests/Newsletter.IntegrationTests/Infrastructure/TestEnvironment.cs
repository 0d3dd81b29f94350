using System.Globalization;

namespace Newsletter.IntegrationTests.Infrastructure;

/// <summary>
/// The services that tests/run.sh starts, as it passes them in environment variables.
/// A missing variable is an error, never a reason to skip: a test that did not run did not pass.
/// </summary>
public static class TestEnvironment
{
    /// <summary>Npgsql connection string of the superuser, database <c>postgres</c>.</summary>
    public static string PostgresConnectionString => Require("NEWSLETTER_TEST_PG");

    /// <summary>Folder of the PostgreSQL server binaries (initdb, pg_ctl), for <see cref="PrivatePostgres"/>.</summary>
    public static string PostgresBin => Require("NEWSLETTER_TEST_PG_BIN");

    public static string ImapHost => ImapEndpoint().Host;

    public static int ImapPort => ImapEndpoint().Port;

    /// <summary>The one password with which any user name logs in to the test Dovecot.</summary>
    public static string ImapPassword => Require("NEWSLETTER_TEST_IMAP_PASSWORD");

    /// <summary>The private Postfix of start-postfix-bounce.sh: SMTP host:port that bounces mail for <see cref="PostfixUnknownUserDomain"/>.</summary>
    public static string PostfixSmtp => Require("NEWSLETTER_TEST_POSTFIX_SMTP");

    /// <summary>Mail to any address of this domain is taken, then bounced by Postfix with a real RFC 3464 report.</summary>
    public static string PostfixUnknownUserDomain => Require("NEWSLETTER_TEST_POSTFIX_DOMAIN");

    /// <summary>The domain whose mail (the reports, sent to the VERP return path) Postfix delivers to <see cref="PostfixReportsMaildir"/>.</summary>
    public static string PostfixBounceDomain => Require("NEWSLETTER_TEST_POSTFIX_BOUNCE_DOMAIN");

    public static string PostfixReportsMaildir => Require("NEWSLETTER_TEST_POSTFIX_MAILDIR");

    /// <summary>A folder for screenshots and other files worth keeping after a run (under TestResults/).</summary>
    public static string ArtifactsDirectory => Directory.CreateDirectory(Require("NEWSLETTER_TEST_ARTIFACTS")).FullName;

    static (string Host, int Port) ImapEndpoint()
    {
        var value = Require("NEWSLETTER_TEST_IMAP");
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw new InvalidOperationException($"NEWSLETTER_TEST_IMAP must be host:port, not '{value}'");
        }

        return (value[..colon], port);
    }

    static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run tests/run.sh, which starts the test services");
}
