using System.Net;
using System.Net.Http.Headers;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>How the admin tests get in: signed in over HTTP with the password, or with the API token.</summary>
internal static class AdminTestKit
{
    public const string AdminCookie = "newsletter-admin";

    /// <summary>Signs in over HTTP on a client without cookies; the returned jar holds the admin and antiforgery cookies.</summary>
    public static async Task<ManualCookies> SignInAsync(HttpClient client)
    {
        var cookies = new ManualCookies();
        using var page = await cookies.SendAsync(client, HttpMethod.Get, "admin/login");
        using var login = await cookies.SendAsync(client, HttpMethod.Post, "admin/login", new Dictionary<string, string>
        {
            ["password"] = TestApp.AdminPassword,
            ["__RequestVerificationToken"] = Web.WebTestData.AntiforgeryToken(await page.Content.ReadAsStringAsync(Ct)),
        });
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.NotNull(cookies.Get(AdminCookie));
        return cookies;
    }

    /// <summary>A client holding the admin cookie (and the antiforgery cookie of the login form).</summary>
    public static async Task<HttpClient> SignedInClientAsync(TestApp app)
    {
        var client = app.CreateClient(allowRedirects: false, useCookies: true);
        var token = await Antiforgery.TokenAsync(client, "admin/login");
        using var response = await client.PostAsync("admin/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["password"] = TestApp.AdminPassword,
            ["__RequestVerificationToken"] = token,
        }), Ct);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    /// <summary>A GET that carries only <paramref name="cookie"/> ("name=value"), as someone holding a copy of it would send it.</summary>
    public static async Task<HttpResponseMessage> GetWithCookieAsync(HttpClient client, string path, string cookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        return await client.SendAsync(request, Ct);
    }

    /// <summary>A client without cookies that sends the admin API token.</summary>
    public static HttpClient ApiClient(TestApp app)
    {
        var client = app.CreateClient(allowRedirects: false, useCookies: false);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestApp.AdminApiToken);
        return client;
    }
}
