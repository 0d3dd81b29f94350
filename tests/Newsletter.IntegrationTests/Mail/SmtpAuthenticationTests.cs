using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Newsletter.Mail;
using SmtpServer.Authentication;
using Xunit;

namespace Newsletter.IntegrationTests.Mail;

/// <summary>The SMTP password only crosses an encrypted connection, unless the operator says plain text is fine.</summary>
public sealed class SmtpAuthenticationTests
{
    [Fact]
    public async Task Connect_ServerWithoutTlsAndTheDefaultSecurity_NeverSendsThePassword()
    {
        await using var server = await PlaintextLoginServer.StartAsync();
        var factory = new SmtpTransportFactory(Options.Create(Settings(server.Port)));

        var refused = await Assert.ThrowsAnyAsync<Exception>(async () => await (await factory.ConnectAsync(Ct)).DisposeAsync());

        Assert.Contains("Newsletter:Smtp:AllowPlaintextAuth", refused.Message, StringComparison.Ordinal);
        Assert.Empty(server.Logins);
    }

    [Fact]
    public async Task Connect_PlaintextAuthAllowedExplicitly_SignsIn()
    {
        await using var server = await PlaintextLoginServer.StartAsync();
        var factory = new SmtpTransportFactory(Options.Create(Settings(server.Port, ("AllowPlaintextAuth", "true"))));

        await (await factory.ConnectAsync(Ct)).DisposeAsync();

        Assert.Equal(("digest", "smtp secret"), Assert.Single(server.Logins));
    }

    [Fact]
    public async Task Start_NoEncryptionWithAUsername_RefusedNamingTheSetting()
    {
        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => TestApp.BuildAsync(settings: new Dictionary<string, string?>
        {
            ["Newsletter:Smtp:Security"] = "None",
            ["Newsletter:Smtp:Username"] = "digest",
            ["Newsletter:Smtp:Password"] = "smtp secret",
        }));

        Assert.Contains("Newsletter:Smtp:AllowPlaintextAuth", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>SMTP options as the application binds them from configuration.</summary>
    private static SmtpOptions Settings(int port, params (string Key, string Value)[] more)
    {
        var values = new Dictionary<string, string?>
        {
            ["Host"] = "127.0.0.1",
            ["Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Username"] = "digest",
            ["Password"] = "smtp secret",
            ["Timeout"] = "00:00:10",
        };
        foreach (var (key, value) in more)
        {
            values[key] = value;
        }
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build().Get<SmtpOptions>()!;
    }

    /// <summary>An SMTP server without TLS that offers AUTH PLAIN and LOGIN anyway, and records every login it sees.</summary>
    private sealed class PlaintextLoginServer : IAsyncDisposable
    {
        private LoopbackSmtpServer? server;

        public ConcurrentQueue<(string User, string Password)> Logins { get; } = new();

        public int Port => server!.Port;

        public static async Task<PlaintextLoginServer> StartAsync()
        {
            var login = new PlaintextLoginServer();
            login.server = await LoopbackSmtpServer.StartAsync("plaintext-login.test",
                services => services.Add(new DelegatingUserAuthenticator((user, password) =>
                {
                    login.Logins.Enqueue((user, password));
                    return true;
                })),
                endpoint: e => e.AllowUnsecureAuthentication(true),
                cancellationToken: Ct);
            return login;
        }

        public ValueTask DisposeAsync() => server?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
