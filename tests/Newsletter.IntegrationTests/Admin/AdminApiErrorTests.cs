using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>
/// A script calling the admin API gets every error as <c>application/problem+json</c> with its status and what was
/// wrong, never the HTML error page; the admin pages keep theirs.
/// </summary>
public sealed class AdminApiErrorTests
{
    [Fact]
    public async Task Api_EveryKindOfError_AnswersProblemJsonWithTheStatusAndWhatWasWrong()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("reader@lab.example.org", "diffusion");
        using var api = AdminTestKit.ApiClient(app);
        using var anonymous = app.CreateClient(allowRedirects: false, useCookies: false);
        using var wrongToken = app.CreateClient(allowRedirects: false, useCookies: false);
        wrongToken.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-token-0123456789abcdef");
        using var signedIn = await AdminTestKit.SignedInClientAsync(app);
        static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

        var calls = new (string Who, HttpClient Client, string Method, string Path, Func<HttpContent>? Body, HttpStatusCode Status, string Named)[]
        {
            ("token", api, "GET", "admin/api/subscribers/424242", null, HttpStatusCode.NotFound, "Subscriber 424242"),
            ("token", api, "DELETE", "admin/api/subscribers/424242", null, HttpStatusCode.NotFound, "Subscriber 424242"),
            ("token", api, "PUT", "admin/api/subscribers/424242/choices", () => Json("{}"), HttpStatusCode.NotFound, "Subscriber 424242"),
            ("token", api, "GET", "admin/api/subscribers/424242/personal-data", null, HttpStatusCode.NotFound, "Subscriber 424242"),
            ("token", api, "GET", "admin/api/issues/424242", null, HttpStatusCode.NotFound, "Issue 424242"),
            ("token", api, "GET", "admin/api/issues/424242/deliveries", null, HttpStatusCode.NotFound, "Issue 424242"),
            ("token", api, "GET", "admin/api/issues/424242/generations", null, HttpStatusCode.NotFound, "Issue 424242"),
            ("token", api, "POST", "admin/api/quarantine/424242/reingest", null, HttpStatusCode.NotFound, "Inbound message 424242"),
            ("token", api, "GET", "admin/api/subscribers/abc", null, HttpStatusCode.BadRequest, "\"abc\""),
            ("token", api, "POST", "admin/api/issues/1.5/resend", () => Json("""{"scope":"all"}"""), HttpStatusCode.BadRequest, "\"1.5\""),
            ("token", api, "GET", "admin/api/no-such-thing", null, HttpStatusCode.NotFound, "/admin/api/no-such-thing"),
            ("no token", anonymous, "GET", "admin/api/issues", null, HttpStatusCode.Unauthorized, "Authorization: Bearer"),
            ("a wrong token", wrongToken, "GET", "admin/api/issues", null, HttpStatusCode.Unauthorized, "not the admin API token"),
            ("the admin cookie", signedIn, "GET", "admin/api/issues", null, HttpStatusCode.Unauthorized, "Authorization: Bearer"),
            ("token", api, "PATCH", $"admin/api/subscribers/{reader.Id}", () => Json("{}"), HttpStatusCode.MethodNotAllowed, "PATCH"),
            ("token", api, "DELETE", "admin/api/issues", null, HttpStatusCode.MethodNotAllowed, "GET"),
            ("token", api, "POST", "admin/api/subscribers", () => Json("""{"email": "x@lab.example.org", """), HttpStatusCode.BadRequest, "JSON"),
            ("token", api, "PUT", $"admin/api/subscribers/{reader.Id}/choices", () => Json("""{"noRepeats": "maybe"}"""), HttpStatusCode.BadRequest, "JSON"),
            ("token", api, "POST", "admin/api/subscribers", () => Json(""), HttpStatusCode.BadRequest, "input"),
            ("token", api, "POST", "admin/api/subscribers", () => new StringContent("email=x@lab.example.org", Encoding.UTF8, "application/x-www-form-urlencoded"),
                HttpStatusCode.UnsupportedMediaType, "application/json"),
        };

        var wrong = new List<string>();
        foreach (var (who, client, method, path, body, status, named) in calls)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body?.Invoke() };
            using var response = await client.SendAsync(request, Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            var call = $"{method} /{path} with {who}: {(int)response.StatusCode} {response.Content.Headers.ContentType?.MediaType} {text[..Math.Min(text.Length, 200)].ReplaceLineEndings(" ")}";
            if (response.StatusCode != status || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                wrong.Add(call);
                continue;
            }
            var problem = JsonDocument.Parse(text).RootElement;
            if (problem.GetProperty("status").GetInt32() != (int)status
                || !(problem.TryGetProperty("detail", out var detail) && detail.GetString()!.Contains(named, StringComparison.Ordinal)))
            {
                wrong.Add(call);
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        // Still refused without the token, and never sent to the login page.
        using var refused = await anonymous.GetAsync("admin/api/subscribers", Ct);
        Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Null(refused.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync($"admin/api/subscribers/{reader.Id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task AdminAndPublicPages_Errors_KeepTheirHtmlPages()
    {
        await using var app = await TestApp.StartAsync();
        using var admin = await AdminTestKit.SignedInClientAsync(app);
        using var anonymous = app.CreateClient(allowRedirects: false, useCookies: false);

        using var noSubscriber = await admin.GetAsync("admin/subscribers/424242", Ct);
        using var noDigest = await admin.GetAsync("admin/deliveries/424242/digest", Ct);
        using var noPage = await anonymous.GetAsync("no-such-page", Ct);
        using var notSignedIn = await anonymous.GetAsync("admin/subscribers", Ct);

        foreach (var response in new[] { noSubscriber, noDigest, noPage })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Page not found", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        Assert.Equal(HttpStatusCode.Redirect, notSignedIn.StatusCode);
        Assert.StartsWith("/admin/login", notSignedIn.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }
}
