using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Newsletter.IntegrationTests.Admin;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Xunit;

namespace Newsletter.IntegrationTests.Web;

/// <summary>
/// Behind the TLS-terminating proxy the application itself speaks plain http: cookies of an https site must still be
/// Secure, and browsers are told to keep to https.
/// </summary>
public sealed class TransportSecurityTests
{
    [Fact]
    public async Task Cookies_HttpsPublicBaseUrlServedOverPlainHttp_AreSecure()
    {
        await using var app = await TestApp.StartAsync(settings: new Dictionary<string, string?> { ["Newsletter:PublicBaseUrl"] = "https://papers.test.example" });
        var cookies = new ManualCookies();
        using var client = app.CreateClient(useCookies: false);

        using var loginPage = await cookies.SendAsync(client, HttpMethod.Get, "admin/login");
        var antiforgery = cookies.SetCookieHeaders.Single();
        using var login = await cookies.SendAsync(client, HttpMethod.Post, "admin/login", new Dictionary<string, string>
        {
            ["password"] = TestApp.AdminPassword,
            ["__RequestVerificationToken"] = WebTestData.AntiforgeryToken(await loginPage.Content.ReadAsStringAsync(Ct)),
        });

        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var admin = Assert.Single(cookies.SetCookieHeaders, c => c.StartsWith("newsletter-admin=", StringComparison.Ordinal));
        Assert.Contains("; secure", admin, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; secure", antiforgery, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("Newsletter:Web:TrustedProxies:0", "127.0.0.1")]
    // One value (an environment variable Newsletter__Web__TrustedProxies) was ignored without a word before.
    [InlineData("Newsletter:Web:TrustedProxies", "127.0.0.1")]
    [InlineData("Newsletter:Web:TrustedProxies", "::1, 127.0.0.1")]
    public async Task Hsts_ProductionRequestThatReachedTheProxyOverHttps_Sent(string key, string proxies)
    {
        await using var app = await TestApp.StartAsync(settings: new Dictionary<string, string?> { [key] = proxies });
        Assert.True(app.Services.GetRequiredService<IHostEnvironment>().IsProduction(), "the tests run the application as in production");
        using var client = app.CreateClient(useCookies: false);

        using var request = new HttpRequestMessage(HttpMethod.Get, "subscribe");
        request.Headers.Host = "papers.test.example";
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var response = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.TryGetValues("Strict-Transport-Security", out var hsts), "no Strict-Transport-Security header");
        Assert.Contains("max-age=", Assert.Single(hsts), StringComparison.Ordinal);
    }
}
