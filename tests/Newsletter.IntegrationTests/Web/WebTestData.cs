using System.Text.RegularExpressions;
using Newsletter.Inbox;
using Npgsql;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Web;

/// <summary>Personal links and the state they change, for the page tests, made and read through the application.</summary>
internal static partial class WebTestData
{
    public static Task<string> TokenAsync(TestApp app, long subscriberId, TokenPurpose purpose, DateTimeOffset? expiresAt = null) =>
        app.Services.GetRequiredService<SubscriberTokens>().MintAsync(subscriberId, purpose, expiresAt, CancellationToken.None);

    public static Task<string> StatusOfAsync(TestApp app, long subscriberId) =>
        app.ScalarAsync<string>("select status from subscribers where id = @id", ("id", subscriberId));

    public const string PublicBaseUrl = "http://localhost/";

    public static async Task<Subscriber> SubscriberAsync(TestWebApp app, string email, SubscriberStatus status, string interests = "diffusion")
    {
        var store = app.Services.GetRequiredService<SubscriberStore>();
        var (subscriber, _) = await store.UpsertAsync(email, interests, status, DigestFormat.Html, CancellationToken.None);
        return subscriber;
    }

    public static async Task<Subscriber> SubscriberAsync(TestApp app, string email, SubscriberStatus status, string interests = "diffusion") =>
        await app.AddSubscriberAsync(email, interests, status);

    public static Task<string> TokenAsync(TestWebApp app, long subscriberId, TokenPurpose purpose, DateTimeOffset? expiresAt = null) =>
        app.Services.GetRequiredService<SubscriberTokens>().MintAsync(subscriberId, purpose, expiresAt, CancellationToken.None);

    public static async Task IngestSampleAsync(TestWebApp app)
    {
        var bytes = Samples.SampleEml;
        var outcome = await app.Services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(bytes, bytes.Length, "test"), CancellationToken.None);
        Assert.Equal(IngestStatus.Ingested, outcome.Status);
    }

    public static async Task<object?> ScalarAsync(TestDatabase database, string sql)
    {
        await using var connection = await database.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public static async Task<string> StatusOfAsync(TestDatabase database, long subscriberId) =>
        (string)(await ScalarAsync(database, $"select status from subscribers where id = {subscriberId}"))!;

    /// <summary>The antiforgery field of the first form of a page.</summary>
    public static string AntiforgeryToken(string html) =>
        AntiforgeryField().Match(html) is { Success: true } match ? match.Groups[1].Value : throw new InvalidOperationException("no antiforgery field in page");

    /// <summary>A link of a mail we sent, moved from the public base URL to the test server.</summary>
    public static string LinkIn(string text, string path, Uri server) =>
        LinkPattern().Matches(text).Select(m => m.Value).FirstOrDefault(l => l.StartsWith(PublicBaseUrl + path, StringComparison.Ordinal)) is { } link
            ? new Uri(server, link[PublicBaseUrl.Length..]).ToString()
            : throw new InvalidOperationException($"no {path} link in:\n{text}");

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    [GeneratedRegex(@"https?://[^\s<>""]+")]
    private static partial Regex LinkPattern();
}
