using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Newsletter.IntegrationTests.Admin;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Web;

/// <summary>A request a page has no handler for is refused (405, or 404 for an unknown handler), never rendered without its model.</summary>
public sealed class UnhandledMethodTests
{
    private static readonly string[] OtherMethods = ["TRACE", "PUT", "DELETE", "PATCH"];

    [Fact]
    public async Task PublicPages_MethodOrHandlerTheyDoNotHave_Refused405Or404_NothingChangesAndNoErrorIsLogged()
    {
        await using var app = await TestApp.StartAsync(services: services => services.AddFakeLogging());
        var reader = await app.AddSubscriberAsync("reader@example.org", "diffusion");
        var pending = await app.AddSubscriberAsync("pending@example.org", "diffusion", SubscriberStatus.Pending);
        var issue = await app.IngestSamplePapersSayingAsync("diffusion");
        var manage = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Manage);
        var paths = new[]
        {
            "", "subscribe", "subscribe/check-inbox", $"issues/{issue}", $"digest/{await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.View)}",
            $"manage/{manage}", $"manage/{manage}/feed", $"unsubscribe/{await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Unsubscribe)}",
            $"confirm/{await WebTestData.TokenAsync(app, pending.Id, TokenPurpose.Confirm, DateTimeOffset.UtcNow.AddHours(1))}",
            "vote/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "status/404", "admin/login",
        };
        using var client = app.CreateClient();
        var antiforgery = Antiforgery.TokenIn(await client.GetStringAsync("", Ct));

        var answers = new List<string>();
        foreach (var path in paths)
        {
            foreach (var method in OtherMethods)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                using var response = await client.SendAsync(request, Ct);
                answers.Add($"{method} /{path}: {(int)response.StatusCode}");
            }
        }
        foreach (var path in paths.Where(p => p.StartsWith("issues/", StringComparison.Ordinal) || p.StartsWith("digest/", StringComparison.Ordinal)
            || p.EndsWith("/feed", StringComparison.Ordinal)))
        {
            using var response = await client.PostAsync(path, new FormUrlEncodedContent([new("__RequestVerificationToken", antiforgery)]), Ct);
            answers.Add($"POST /{path}: {(int)response.StatusCode} {(await response.Content.ReadAsStringAsync(Ct)).Contains("feed address", StringComparison.Ordinal)}");
        }

        Assert.All(answers, answer => Assert.Matches(@": (405|404)( False)?$", answer));
        Assert.Contains($"POST /issues/{issue}: 405 False", answers);
        Assert.Contains($"POST /manage/{manage}/feed: 404 False", answers);
        Assert.Equal(("active", "pending"), (await WebTestData.StatusOfAsync(app, reader.Id), await WebTestData.StatusOfAsync(app, pending.Id)));
        Assert.Empty(ErrorsLogged(app));
        using var page = await client.GetAsync($"manage/{manage}", Ct);
        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"issues/{issue}"), Ct);
        using var checkInbox = await client.GetAsync("subscribe/check-inbox", Ct);
        using var options = await client.SendAsync(new HttpRequestMessage(HttpMethod.Options, $"manage/{manage}"), Ct);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK),
            (page.StatusCode, head.StatusCode, checkInbox.StatusCode, options.StatusCode));
        Assert.Equal("HEAD, GET, POST", options.Content.Headers.Allow.Count > 0 ? string.Join(", ", options.Content.Headers.Allow) : null);
    }

    [Fact]
    public async Task AdminPages_MethodTheyDoNotHave_Refused405AndNoErrorIsLogged()
    {
        await using var app = await TestApp.StartAsync(services: services => services.AddFakeLogging());
        var reader = await app.AddSubscriberAsync("reader@example.org", "diffusion");
        var issue = await app.IngestSamplePapersSayingAsync("diffusion");
        using var admin = await AdminTestKit.SignedInClientAsync(app);
        var antiforgery = await Antiforgery.TokenAsync(admin, "admin/subscribers");

        var answers = new List<string>();
        foreach (var path in new[] { "admin", "admin/subscribers", $"admin/subscribers/{reader.Id}", $"admin/issues/{issue}", $"admin/issues/{issue}/resend", "admin/quarantine" })
        {
            foreach (var method in OtherMethods)
            {
                using var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), Ct);
                answers.Add($"{method} /{path}: {(int)response.StatusCode}");
            }
        }
        foreach (var path in new[] { "admin", $"admin/issues/{issue}", "admin/quarantine" })
        {
            using var response = await admin.PostAsync(path, new FormUrlEncodedContent([new("__RequestVerificationToken", antiforgery)]), Ct);
            answers.Add($"POST /{path}: {(int)response.StatusCode}");
        }

        Assert.All(answers, answer => Assert.EndsWith(": 405", answer, StringComparison.Ordinal));
        Assert.Equal("active", await WebTestData.StatusOfAsync(app, reader.Id));
        Assert.Empty(ErrorsLogged(app));
    }

    private static IEnumerable<string> ErrorsLogged(TestApp app) =>
        app.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Level >= LogLevel.Error).Select(r => $"{r.Category}: {r.Message} {r.Exception}");
}
