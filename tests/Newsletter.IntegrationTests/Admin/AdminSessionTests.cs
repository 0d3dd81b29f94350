using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Newsletter.IntegrationTests.Web;
using Xunit;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>
/// An admin session ends when the admin signs out, when the password changes and when its lifetime is over, even for
/// someone holding a copy of the cookie.
/// </summary>
public sealed class AdminSessionTests
{
    [Fact]
    public async Task SignOut_CopyOfTheCookieTakenBefore_NoLongerAdmits()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateClient(useCookies: false);
        var admin = await AdminTestKit.SignInAsync(client);
        var copy = admin.Get(AdminTestKit.AdminCookie)!;

        using var overview = await admin.SendAsync(client, HttpMethod.Get, "admin");
        var token = WebTestData.AntiforgeryToken(await overview.Content.ReadAsStringAsync(Ct));
        using var signOut = await admin.SendAsync(client, HttpMethod.Post, "admin/logout", new Dictionary<string, string> { ["__RequestVerificationToken"] = token });

        Assert.Equal(HttpStatusCode.OK, overview.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await AdminTestKit.GetWithCookieAsync(client, "admin", copy)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await AdminTestKit.GetWithCookieAsync(client, "admin/jobs", copy)).StatusCode);
    }

    [Fact]
    public async Task PasswordChanged_SessionFromBefore_EndsThoughARestartAloneKeepsIt()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        string cookie;
        await using (var before = await TestApp.StartAsync(connectionString: database.ConnectionString))
        {
            using var client = before.CreateClient(useCookies: false);
            cookie = (await AdminTestKit.SignInAsync(client)).Get(AdminTestKit.AdminCookie)!;
        }

        HttpStatusCode restarted, changed;
        await using (var same = await TestApp.StartAsync(connectionString: database.ConnectionString))
        {
            using var client = same.CreateClient(useCookies: false);
            restarted = (await AdminTestKit.GetWithCookieAsync(client, "admin", cookie)).StatusCode;
        }
        await using (var newPassword = await TestApp.StartAsync(connectionString: database.ConnectionString,
            settings: new Dictionary<string, string?> { ["Newsletter:Admin:Password"] = "a brand new admin password" }))
        {
            using var client = newPassword.CreateClient(useCookies: false);
            changed = (await AdminTestKit.GetWithCookieAsync(client, "admin", cookie)).StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, restarted);
        Assert.Equal(HttpStatusCode.Redirect, changed);
    }

    [Fact]
    public async Task Session_InUseAllAlong_EndsWhenItsLifetimeIsOver()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(services: services => services.AddSingleton<TimeProvider>(clock),
            settings: new Dictionary<string, string?> { ["Newsletter:Admin:SessionLifetime"] = "08:00:00" });
        using var client = app.CreateClient(useCookies: false);
        var admin = await AdminTestKit.SignInAsync(client);

        var statuses = new List<HttpStatusCode>();
        foreach (var hours in new[] { 3, 3, 1.5, 1 })
        {
            clock.Advance(TimeSpan.FromHours(hours));
            using var response = await admin.SendAsync(client, HttpMethod.Get, "admin");
            statuses.Add(response.StatusCode);
        }

        // Used every few hours, so a sliding session would never end; this one ends 8 hours after signing in.
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Redirect], statuses);
    }
}
