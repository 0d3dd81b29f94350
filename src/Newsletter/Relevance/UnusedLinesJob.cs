using System.ComponentModel;
using Hangfire;
using Newsletter.Database;
using Npgsql;

namespace Newsletter.Relevance;

/// <summary>
/// Forgets the vectors of keyword lines that no subscriber has any more: a deleted reader's line leaves the database
/// within the hour, and lines readers changed do not pile up. Runs hourly: one read of the distinct lines, one delete.
/// It holds the saved-lines job's lock, so a line saved meanwhile is embedded again by that job, not left without a vector.
/// </summary>
public sealed class UnusedLinesJob(NpgsqlDataSource db, RelevanceStore relevance, TimeProvider clock, ILogger<UnusedLinesJob> logger)
{
    public const string RecurringJobId = "forget-unused-keyword-lines";

    [AutomaticRetry(Attempts = 0)] // It runs again within the hour.
    [DisplayName("Forget the vectors of keyword lines no subscriber has")]
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var (ran, forgotten) = await AdvisoryLocks.TryRunAsync(db, LockSpace.SavedKeywordLines, 0,
            () => relevance.ForgetUnusedLinesAsync(clock.GetUtcNow(), ct), ct);
        if (!ran)
        {
            logger.LogDebug("Saved keyword lines are being embedded; unused lines are forgotten next hour");
        }
        else if (forgotten > 0)
        {
            logger.LogInformation("Forgot the vectors of {Count} keyword line(s) no subscriber has any more", forgotten);
        }
        return forgotten;
    }
}
