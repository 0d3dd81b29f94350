using System.Text.RegularExpressions;
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

    public static async Task<Subscriber> SubscriberAsync(TestApp app, string email, SubscriberStatus status, string interests = "diffusion") =>
        await app.AddSubscriberAsync(email, interests, status);

    /// <summary>The antiforgery field of the first form of a page.</summary>
    public static string AntiforgeryToken(string html) =>
        AntiforgeryField().Match(html) is { Success: true } match ? match.Groups[1].Value : throw new InvalidOperationException("no antiforgery field in page");

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
