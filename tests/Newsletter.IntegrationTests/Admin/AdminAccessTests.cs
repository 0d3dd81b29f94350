using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>Who gets into the admin area: only the admin, by cookie for pages and dashboard, by token for the API.</summary>
public sealed class AdminAccessTests
{
    private static readonly string[] Pages =
    [
        "admin", "admin/subscribers", "admin/subscribers/1", "admin/subscribers/export.csv", "admin/subscribers/1/export.json",
        "admin/issues/1", "admin/issues/1/resend", "admin/issues/1/resend?generation=1", "admin/quarantine", "admin/quarantine/1",
        "admin/deliveries/1/digest", "admin/logout",
    ];

    private static readonly (string Method, string Path)[] ApiCalls =
    [
        ("GET", "admin/api/issues"), ("GET", "admin/api/issues/1"), ("GET", "admin/api/issues/1/deliveries"),
        ("GET", "admin/api/issues/1/generations"), ("POST", "admin/api/issues/1/resend"), ("GET", "admin/api/subscribers"),
        ("POST", "admin/api/subscribers"), ("GET", "admin/api/subscribers/1"), ("PUT", "admin/api/subscribers/1"),
        ("DELETE", "admin/api/subscribers/1"), ("GET", "admin/api/subscribers/1/personal-data"), ("POST", "admin/api/subscribers/import"),
        ("GET", "admin/api/subscribers/export"), ("GET", "admin/api/quarantine"), ("POST", "admin/api/quarantine/1/reingest"),
        ("GET", "admin/api/subscribers/1/choices"), ("PUT", "admin/api/subscribers/1/choices"),
    ];

    [Fact]
    public async Task AnonymousRequest_EveryAdminUrl_RefusedWithLoginRedirectOr401()
    {
        await using var app = await TestApp.StartAsync();
        using var anonymous = app.CreateClient(allowRedirects: false, useCookies: false);

        foreach (var page in Pages)
        {
            using var response = await anonymous.GetAsync(page, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"GET {page}: {response.StatusCode}");
            Assert.StartsWith("/admin/login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }
        foreach (var (path, handler) in new[] { ("admin/subscribers", "add"), ("admin/issues/1/resend", null), ("admin/quarantine/1", null) })
        {
            using var response = await anonymous.PostAsync(handler is null ? path : $"{path}?handler={handler}",
                new FormUrlEncodedContent(new Dictionary<string, string> { ["email"] = "x@lab.example.org" }), Ct);
            Assert.True(response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.BadRequest, $"POST {path}: {response.StatusCode}");
        }
        foreach (var (method, path) in ApiCalls)
        {
            foreach (var token in new[] { null, "wrong-token-0123456789abcdef" })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (token is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                }
                if (method is "POST" or "PUT")
                {
                    request.Content = JsonContent.Create(new { scope = "all", email = "x@lab.example.org" });
                }
                using var response = await anonymous.SendAsync(request, Ct);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with {token ?? "no token"}: {response.StatusCode}");
            }
        }
        foreach (var path in new[] { "admin/jobs", "admin/jobs/jobs/enqueued", "admin/jobs/recurring" })
        {
            using var response = await anonymous.GetAsync(path, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"GET {path}: {response.StatusCode}");
        }
        // The API token is not a way into the dashboard or the pages.
        using var tokenOnly = AdminTestKit.ApiClient(app);
        Assert.Equal(HttpStatusCode.Unauthorized, (await tokenOnly.GetAsync("admin/jobs", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await tokenOnly.GetAsync("admin", Ct)).StatusCode);
    }

    [Fact]
    public async Task SignedIn_PagesDashboardAndApi_Answer200()
    {
        await using var app = await TestApp.StartAsync();
        using var admin = await AdminTestKit.SignedInClientAsync(app);

        foreach (var path in new[] { "admin", "admin/subscribers", "admin/quarantine", "admin/jobs", "admin/subscribers/export.csv" })
        {
            using var response = await admin.GetAsync(path, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {response.StatusCode}");
        }
        using var api = AdminTestKit.ApiClient(app);
        using var issues = await api.GetAsync("admin/api/issues", Ct);
        Assert.Equal(HttpStatusCode.OK, issues.StatusCode);
        using var created = await api.PostAsJsonAsync("admin/api/subscribers", new { email = "api@lab.example.org", interests = "diffusion" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var bad = await api.PostAsJsonAsync("admin/api/subscribers", new { email = "api2@lab.example.org", interests = "diffusion OR" }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("interests", problem.GetProperty("field").GetString());
        Assert.True(problem.TryGetProperty("position", out _));
    }

    [Fact]
    public async Task PostWithoutAntiforgeryToken_SignedInAdmin_Refused400AndNothingChanges()
    {
        await using var app = await TestApp.StartAsync();
        using var admin = await AdminTestKit.SignedInClientAsync(app);

        using var forged = await admin.PostAsync("admin/subscribers?handler=add",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["email"] = "forged@lab.example.org", ["interests"] = "", ["format"] = "html" }), Ct);
        using var login = app.CreateClient(useCookies: false);
        using var loginWithout = await login.PostAsync("admin/login",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["password"] = TestApp.AdminPassword }), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, loginWithout.StatusCode);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscribers"));

        // The same form with its token goes through.
        var token = await Antiforgery.TokenAsync(admin, "admin/subscribers");
        using var genuine = await admin.PostAsync("admin/subscribers?handler=add", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = "genuine@lab.example.org", ["interests"] = "", ["format"] = "html", ["__RequestVerificationToken"] = token,
        }), Ct);
        Assert.Equal(HttpStatusCode.Redirect, genuine.StatusCode);
        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from subscribers where status = 'active'"));
    }

    [Fact]
    public async Task Login_WrongPasswordsBeyondTheLimit_Answers429()
    {
        await using var app = await TestApp.StartAsync(settings: new Dictionary<string, string?> { ["Newsletter:Admin:LoginAttemptsPerMinute"] = "3" });
        using var client = app.CreateClient();
        var token = await Antiforgery.TokenAsync(client, "admin/login");

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await client.PostAsync("admin/login", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["password"] = "guess " + i, ["__RequestVerificationToken"] = token,
            }), Ct);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task Login_GuessesFromRotatingAddressesBeyondTheOverallCap_Answer429WhileTheAdminsBrowserStillSignsIn()
    {
        await using var app = await TestApp.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Newsletter:Admin:LoginAttemptsPerMinuteAllClients"] = "3",
            ["Newsletter:Web:TrustedProxies:0"] = "127.0.0.1",
        });
        using var client = app.CreateClient(useCookies: false);
        // The admin signed in from this browser before the attack: it holds the device cookie.
        var adminBrowser = new ManualCookies();
        Assert.Equal(HttpStatusCode.Redirect, (await LoginFromAsync(client, adminBrowser, "198.51.100.1", TestApp.AdminPassword)).StatusCode);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 2; i <= 4; i++)
        {
            var response = await LoginFromAsync(client, new ManualCookies(), $"203.0.113.{i}", "guess " + i);
            statuses.Add(response.StatusCode);
            refused = response;
        }
        var newBrowserOfTheAdmin = await LoginFromAsync(client, new ManualCookies(), "198.51.100.2", TestApp.AdminPassword);
        var knownBrowser = await LoginFromAsync(client, adminBrowser, "198.51.100.1", TestApp.AdminPassword);

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);
        Assert.InRange(refused!.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.TooManyRequests, newBrowserOfTheAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, knownBrowser.StatusCode);
    }

    [Fact]
    public async Task Api_WrongTokensBeyondTheLimit_Answer429ForThatClientOnly()
    {
        await using var app = await TestApp.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Newsletter:Admin:WrongApiTokensPerMinute"] = "2",
            ["Newsletter:Web:TrustedProxies:0"] = "127.0.0.1",
        });
        using var client = app.CreateClient(useCookies: false);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        foreach (var token in new[] { "wrong-token-0123456789abcdef", "wrong-token-fedcba9876543210", "wrong-token-0000000000000000", TestApp.AdminApiToken })
        {
            last = await ApiFromAsync(client, "203.0.113.9", token);
            statuses.Add(last.StatusCode);
        }
        var otherClient = await ApiFromAsync(client, "198.51.100.1", TestApp.AdminApiToken);

        // Once spent, not even the right token is checked from that client: the guesser learns nothing.
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        Assert.InRange(last!.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        Assert.Contains("Too many wrong admin API tokens", await last.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, otherClient.StatusCode);
    }

    private static async Task<HttpResponseMessage> LoginFromAsync(HttpClient client, ManualCookies browser, string address, string password)
    {
        using var page = await SendFromAsync(client, browser, HttpMethod.Get, address, null);
        var token = Antiforgery.TokenIn(await page.Content.ReadAsStringAsync(Ct));
        return await SendFromAsync(client, browser, HttpMethod.Post, address, new Dictionary<string, string>
        {
            ["password"] = password, ["__RequestVerificationToken"] = token,
        });
    }

    private static async Task<HttpResponseMessage> SendFromAsync(HttpClient client, ManualCookies browser, HttpMethod method, string address,
        Dictionary<string, string>? form)
    {
        client.DefaultRequestHeaders.Remove("X-Forwarded-For");
        client.DefaultRequestHeaders.Add("X-Forwarded-For", address);
        return await browser.SendAsync(client, method, "admin/login", form);
    }

    private static async Task<HttpResponseMessage> ApiFromAsync(HttpClient client, string address, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "admin/api/issues");
        request.Headers.Add("X-Forwarded-For", address);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request, Ct);
    }
}
