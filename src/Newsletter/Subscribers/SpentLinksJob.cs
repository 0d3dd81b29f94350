using System.ComponentModel;
using Hangfire;
using Microsoft.Extensions.Options;

namespace Newsletter.Subscribers;

/// <summary>
/// Deletes the stored personal links that expired or were used more than <c>Newsletter:Web:SpentLinkRetention</c> ago:
/// anyone may ask for an "already subscribed" mail a few times an hour, and each one's link would otherwise stay in
/// <c>subscriber_tokens</c> for good. Runs daily.
/// </summary>
public sealed class SpentLinksJob(SubscriberTokens tokens, IOptions<ConfirmationOptions> options, TimeProvider clock, ILogger<SpentLinksJob> logger)
{
    public const string RecurringJobId = "delete-spent-links";

    [AutomaticRetry(Attempts = 0)] // It runs again the next day.
    [DisplayName("Delete expired and used personal links")]
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var before = clock.GetUtcNow() - options.Value.SpentLinkRetention;
        var deleted = await tokens.DeleteSpentAsync(before, ct);
        if (deleted > 0)
        {
            logger.LogInformation("Deleted {Count} personal link(s) that expired or were used before {Before:u}", deleted, before);
        }
        return deleted;
    }
}
