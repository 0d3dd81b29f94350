using System.ComponentModel;
using Hangfire;

namespace Newsletter.Relevance;

/// <summary>
/// Forgets the vectors of keyword lines that no subscriber has any more: a deleted reader's line leaves the database
/// within the hour, and lines readers changed do not pile up. Runs hourly: one read of the distinct lines, one delete.
/// </summary>
public sealed class UnusedLinesJob(RelevanceStore relevance, TimeProvider clock, ILogger<UnusedLinesJob> logger)
{
    public const string RecurringJobId = "forget-unused-keyword-lines";

    [AutomaticRetry(Attempts = 0)] // It runs again within the hour.
    [DisplayName("Forget the vectors of keyword lines no subscriber has")]
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var forgotten = await relevance.ForgetUnusedLinesAsync(clock.GetUtcNow(), ct);
        if (forgotten > 0)
        {
            logger.LogInformation("Forgot the vectors of {Count} keyword line(s) no subscriber has any more", forgotten);
        }
        return forgotten;
    }
}
