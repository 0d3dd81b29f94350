using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Xunit;

namespace Newsletter.IntegrationTests.Operations;

/// <summary>
/// A configuration mistake, in the server or in any verb, ends the process with a non-zero code and one line per
/// mistake that names the key and says what is wrong: no stack trace to read through.
/// </summary>
public sealed class ConfigurationErrorTests
{
    [Theory]
    [InlineData("server", "Newsletter:Smtp:Port", "0")]
    [InlineData("server", "Newsletter:Smtp:Port", "not-a-number")]
    [InlineData("server", "Newsletter:Admin:Password", "change-me")]
    [InlineData("server", "Newsletter:Inbox:AllowedSenders:0", "not a sender")]
    [InlineData("subscribers list", "Newsletter:Jobs:PollInterval", "soon")]
    [InlineData("migrate", "ConnectionStrings:Newsletter", "")]
    [InlineData("migrate", "Newsletter:Smtp:Password", "CHANGE-ME")]
    [InlineData("migrate", "ConnectionStrings:Newsletter", "Host=127.0.0.1;Username=newsletter;Pasword=secret")]
    [InlineData("server", "ConnectionStrings:Newsletter", "Host=127.0.0.1;Port=five")]
    // "60" read as seconds is 60 days to .NET: past what a timer takes, so every send would fail.
    [InlineData("server", "Newsletter:Smtp:Timeout", "60")]
    [InlineData("server", "Newsletter:Smtp:Timeout", "00:00:00")]
    // Zero retries a deferred digest at once, again and again; a deadline of zero fails it on its first deferral.
    [InlineData("server", "Newsletter:Delivery:FirstRetryDelay", "00:00:00")]
    [InlineData("server", "Newsletter:Delivery:FirstRetryDelay", "60")]
    [InlineData("server", "Newsletter:Delivery:RetryDeadline", "-01:00:00")]
    // A folder that cannot be made (its parent is a file): the model could never be saved or loaded, so no paper read for meaning.
    [InlineData("server", "Newsletter:Relevance:ModelDirectory", "/etc/passwd/models")]
    public async Task Newsletter_OneSettingWrong_ExitsNonZeroWithOneLineNamingIt(string verb, string key, string value)
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        var settings = TestApp.DefaultSettings(database.ConnectionString);
        settings[key] = value;
        string[] args = verb == "server" ? ["--role", "web"] : verb.Split(' ');

        var (exitCode, output, errors) = await AppCommand.RunAsync(args, settings);

        Assert.True(exitCode != 0, $"exit code {exitCode}; output:\n{output}");
        var line = Assert.Single(errors);
        Assert.Contains(key, line, StringComparison.Ordinal);
        Assert.DoesNotContain(output.Split('\n').Concat(errors), l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("server", "no server on the port")]
    [InlineData("server", "wrong password")]
    [InlineData("migrate", "no server on the port")]
    [InlineData("migrate", "no such database")]
    [InlineData("subscribers list", "wrong password")]
    public async Task Newsletter_DatabaseUnusable_ExitsWithOneLineNamingTheConnectionString(string verb, string problem)
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        var connection = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        switch (problem)
        {
            case "no server on the port":
                using (var listener = new TcpListener(IPAddress.Loopback, 0))
                {
                    listener.Start();
                    connection.Host = "127.0.0.1";
                    connection.Port = ((IPEndPoint)listener.LocalEndpoint).Port;
                }
                break;
            case "wrong password":
                connection.Password = "not-the-password-0123";
                break;
            default:
                connection.Database = "no_such_database";
                break;
        }
        var settings = TestApp.DefaultSettings(connection.ConnectionString);
        string[] args = verb == "server" ? ["--role", "web"] : verb.Split(' ');

        var (exitCode, output, errors) = await AppCommand.RunAsync(args, settings);

        // Not 78: the database may only be starting, and the units restart on any other failure.
        Assert.True(exitCode == 1, $"exit code {exitCode}; output:\n{output}\nerrors:\n{string.Join('\n', errors)}");
        var line = Assert.Single(errors);
        Assert.Contains("ConnectionStrings:Newsletter", line, StringComparison.Ordinal);
        Assert.Contains($"{connection.Host}:{connection.Port}", line, StringComparison.Ordinal);
        Assert.DoesNotContain(connection.Password!, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Newsletter:Inbox:RequireDkimFor")]
    [InlineData("Newsletter:Inbox:AllowedSenders")]
    [InlineData("Newsletter:Inbox:TrustedAuthServIds")]
    public async Task Newsletter_ListSettingGivenAsOneValue_ExitsNamingTheIndexedForm(string key)
    {
        // Newsletter__Inbox__RequireDkimFor=huggingface.co, without the __0 a list item needs: the binder drops it.
        await using var database = await TestDatabase.CreateAsync(Ct);
        var settings = TestApp.DefaultSettings(database.ConnectionString);
        settings.Remove(key + ":0");
        settings[key] = "huggingface.co";

        var (exitCode, output, errors) = await AppCommand.RunAsync(["poll"], settings);

        Assert.True(exitCode == 78, $"exit code {exitCode}; output:\n{output}\nerrors:\n{string.Join('\n', errors)}");
        var line = Assert.Single(errors);
        Assert.Contains(key.Replace(":", "__", StringComparison.Ordinal) + "__0", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Newsletter:Imap:Timeout", "60")]
    [InlineData("Newsletter:Imap:IdleRestart", "60")]
    [InlineData("Newsletter:Imap:IdleRestart", "00:00:00")]
    public async Task Newsletter_ImapTimeSpanOutOfRange_ExitsWithOneLineNamingIt(string key, string value)
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        var settings = TestApp.DefaultSettings(database.ConnectionString);
        foreach (var (imapKey, imapValue) in TestApp.ImapSettings(DovecotAccount.Create()))
        {
            settings[imapKey] = imapValue;
        }
        settings[key] = value;

        var (exitCode, output, errors) = await AppCommand.RunAsync(["poll"], settings);

        Assert.True(exitCode == 78, $"exit code {exitCode}; output:\n{output}\nerrors:\n{string.Join('\n', errors)}");
        var line = Assert.Single(errors);
        Assert.Contains(key, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("server", "public key")]
    [InlineData("server", "not a key")]
    [InlineData("preview --issue 1 --email reader@example.org", "public key")]
    public async Task Newsletter_DkimKeyFileHoldsNoPrivateKey_ExitsNamingTheKey(string verb, string content)
    {
        // The DNS record's half instead of the private key, say: it exists, so only loading it tells.
        await using var database = await TestDatabase.CreateAsync(Ct);
        using var rsa = RSA.Create(2048);
        var key = Path.Combine(Path.GetTempPath(), $"dkim-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(key, content == "public key" ? rsa.ExportSubjectPublicKeyInfoPem() : "not a key\n", Ct);
        var settings = TestApp.DefaultSettings(database.ConnectionString);
        settings["Newsletter:Mail:DkimPrivateKeyPath"] = key;
        settings["Newsletter:Mail:DkimSelector"] = "digest2025";
        string[] args = verb == "server" ? ["--role", "worker"] : verb.Split(' ');
        try
        {
            var (exitCode, output, errors) = await AppCommand.RunAsync(args, settings);

            Assert.True(exitCode == 78, $"exit code {exitCode}; output:\n{output}\nerrors:\n{string.Join('\n', errors)}");
            var line = Assert.Single(errors);
            Assert.Contains("Newsletter:Mail:DkimPrivateKeyPath", line, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(key);
        }
    }
}
