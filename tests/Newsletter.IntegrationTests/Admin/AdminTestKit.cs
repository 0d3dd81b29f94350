using System.Net;
using System.Net.Http.Headers;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>How the admin tests get in: signed in over HTTP with the password, or with the API token.</summary>
internal static class AdminTestKit
{
    /// <summary>A client holding the admin cookie (and the antiforgery cookie of the login form).</summary>
    public static async Task<HttpClient> SignedInClientAsync(TestApp app)
    {
        var client = app.CreateClient(allowRedirects: false, useCookies: true);
        var token = await Antiforgery.TokenAsync(client, "admin/login");
        using var response = await client.PostAsync("admin/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["password"] = TestApp.AdminPassword,
            ["__RequestVerificationToken"] = token,
        }), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    /// <summary>A client without cookies that sends the admin API token.</summary>
    public static HttpClient ApiClient(TestApp app)
    {
        var client = app.CreateClient(allowRedirects: false, useCookies: false);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestApp.AdminApiToken);
        return client;
    }
}
