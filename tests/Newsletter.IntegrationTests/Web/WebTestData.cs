using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Web;

/// <summary>Personal links and the state they change, for the page tests, made and read through the application.</summary>
internal static class WebTestData
{
    public static Task<string> TokenAsync(TestApp app, long subscriberId, TokenPurpose purpose, DateTimeOffset? expiresAt = null) =>
        app.Services.GetRequiredService<SubscriberTokens>().MintAsync(subscriberId, purpose, expiresAt, CancellationToken.None);

    public static Task<string> StatusOfAsync(TestApp app, long subscriberId) =>
        app.ScalarAsync<string>("select status from subscribers where id = @id", ("id", subscriberId));
}
