using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newsletter.IntegrationTests.Admin;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Xunit;

namespace Newsletter.IntegrationTests.Operations;

/// <summary>/readyz answers anyone whether the process is ready, tells only the admin why not, and is cheap to ask.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task Readyz_SmtpServerDown_AnonymousLearnsOnlyNotReadyAdminLearnsWhy()
    {
        var closedPort = LoopbackPort.Free();
        await using var app = await TestApp.StartAsync(settings: SmtpAt(closedPort));
        using var client = app.CreateClient(useCookies: false);

        using var anonymous = await client.GetAsync("readyz", Ct);
        var anonymousBody = await anonymous.Content.ReadAsStringAsync(Ct);
        var admin = new ManualCookies();
        using var withToken = await admin.SendAsync(client, HttpMethod.Get, "readyz", bearer: TestApp.AdminApiToken);
        var adminBody = await withToken.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, anonymous.StatusCode);
        Assert.Contains("Unhealthy", anonymousBody, StringComparison.Ordinal);
        Assert.DoesNotContain("SMTP", anonymousBody, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", anonymousBody, StringComparison.Ordinal);
        Assert.DoesNotContain("postgresql", anonymousBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, withToken.StatusCode);
        Assert.Contains($"SMTP 127.0.0.1:{closedPort}", adminBody, StringComparison.Ordinal);
        Assert.Contains("postgresql", adminBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readyz_AskedOftenWithinAFewSeconds_ProbesTheMailServerOnce()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var smtp = new TcpListener(IPAddress.Loopback, 0);
        smtp.Start(backlog: 100);
        await using var app = await TestApp.StartAsync(settings: SmtpAt(((IPEndPoint)smtp.LocalEndpoint).Port),
            services: services => services.AddSingleton<TimeProvider>(clock));
        using var client = app.CreateClient(useCookies: false);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            statuses.Add((await client.GetAsync("readyz", Ct)).StatusCode);
        }
        clock.Advance(TimeSpan.FromSeconds(30));
        statuses.Add((await client.GetAsync("readyz", Ct)).StatusCode);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(2, await ConnectionsBeforeAsync(smtp));
    }

    /// <summary>The mail server the readiness check probes, on a loopback port.</summary>
    private static Dictionary<string, string?> SmtpAt(int port) => new()
    {
        ["Newsletter:Smtp:Host"] = "127.0.0.1",
        ["Newsletter:Smtp:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// The connections the listener has queued so far: a marker connection goes in last, and connections come out of
    /// the queue in order, so the ones accepted before the marker are exactly those that were made before it.
    /// </summary>
    private static async Task<int> ConnectionsBeforeAsync(TcpListener listener)
    {
        using var marker = new TcpClient();
        await marker.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port, Ct);
        var markerPort = ((IPEndPoint)marker.Client.LocalEndPoint!).Port;
        var count = 0;
        while (true)
        {
            using var accepted = await listener.AcceptSocketAsync(Ct);
            if (((IPEndPoint)accepted.RemoteEndPoint!).Port == markerPort)
            {
                return count;
            }
            count++;
        }
    }
}
