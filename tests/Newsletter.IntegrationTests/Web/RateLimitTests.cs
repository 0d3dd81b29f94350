using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers;
using System.Net;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Xunit;

namespace Newsletter.IntegrationTests.Web;

/// <summary>
/// The anonymous endpoints that cost work (a subscribe mail, a preview match) are limited per client, whatever the
/// query string says and however many addresses of one IPv6 network the client uses.
/// </summary>
public sealed class RateLimitTests
{
    [Fact]
    public async Task Preview_FloodFromOneClient_Gets429()
    {
        await using var app = await TestApp.StartAsync(settings: new Dictionary<string, string?> { ["Newsletter:Web:PreviewPermitsPerMinute"] = "3" });
        using var client = app.CreateClient(useCookies: false);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await client.GetAsync($"preview?interests=term{i}", Ct);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task ManagePost_EveryHandlerThatPreviewsALine_SharesThePreviewLimit()
    {
        // Each new line a manage page previews is read for meaning by the model: a reader's own link must not make that free.
        await using var app = await TestApp.StartAsync(settings: new Dictionary<string, string?> { ["Newsletter:Web:PreviewPermitsPerMinute"] = "3" });
        await app.IngestSamplePapersSayingAsync("diffusion");
        var reader = await app.AddSubscriberAsync("reader@example.org", "diffusion");
        var token = await app.Services.GetRequiredService<SubscriberTokens>().MintAsync(reader.Id, TokenPurpose.Manage, null, Ct);
        using var client = app.CreateClient(useCookies: false);

        var statuses = new List<HttpStatusCode>();
        foreach (var handler in new[] { "?handler=Preview", "", "?handler=Preview", "", "?handler=Preview" })
        {
            using var response = await client.PostAsync($"manage/{token}{handler}", new FormUrlEncodedContent(
                [new("Interests", $"term{statuses.Count} \"(unclosed"), new("Format", "Html"), new("Frequency", "Daily")]), Ct);
            statuses.Add(response.StatusCode);
        }
        using var page = await client.GetAsync($"manage/{token}", Ct);

        // A save of a line with a mistake says so (400); the fourth POST and the fifth meet the limit, the page itself does not.
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.BadRequest, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task SubscribePost_AnyHandlerInTheQuery_CountsAgainstTheSameLimit()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateClient(useCookies: false);

        // Razor Pages runs the default handler for a handler name it does not know: each of these is a subscribe POST.
        var statuses = new List<HttpStatusCode>();
        foreach (var path in new[] { "subscribe?handler=x", "?handler=Preview", "subscribe?handler=", "subscribe/?Handler=Other", "subscribe", "?handler=y", "subscribe?handler=z" })
        {
            using var response = await client.PostAsync(path, Form(), Ct);
            statuses.Add(response.StatusCode);
        }

        // The limit (5 a minute) answers first; the rest reach the page, which refuses a form without its token.
        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.BadRequest));
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task SubscribePost_AddressesOfOneIpv6Network_ShareOneLimit()
    {
        await using var app = await TestApp.StartAsync(settings: new Dictionary<string, string?> { ["Newsletter:Web:TrustedProxies:0"] = "127.0.0.1" });
        using var client = app.CreateClient(useCookies: false);

        var statuses = new List<HttpStatusCode>();
        for (var i = 1; i <= 7; i++)
        {
            statuses.Add(await PostFromAsync(client, $"2001:db8:1:2::{i:x}"));
        }
        var otherNetwork = await PostFromAsync(client, "2001:db8:1:3::1");

        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(HttpStatusCode.BadRequest, otherNetwork);
    }

    private static async Task<HttpStatusCode> PostFromAsync(HttpClient client, string clientAddress)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "subscribe") { Content = Form() };
        request.Headers.Add("X-Forwarded-For", clientAddress);
        using var response = await client.SendAsync(request, Ct);
        return response.StatusCode;
    }

    private static FormUrlEncodedContent Form() => new([new("Email", "someone@example.org"), new("Interests", "diffusion")]);
}
