using System.ComponentModel;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Newsletter.Inbox;

/// <summary>
/// Deletes quarantined mail once <c>Newsletter:Inbox:QuarantineRetention</c> has passed since it was quarantined, a
/// thousand rows per statement so no lock is held for long. Runs hourly; the mailbox's quarantine folder is left to
/// the mail server's own quotas.
/// </summary>
public sealed class QuarantineRetentionJob(
    NpgsqlDataSource db,
    IOptions<InboxOptions> inbox,
    TimeProvider clock,
    ILogger<QuarantineRetentionJob> logger)
{
    public const string RecurringJobId = "quarantine-retention";

    [AutomaticRetry(Attempts = 0)] // It runs again within the hour.
    [DisplayName("Delete quarantined mail past its retention")]
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var before = clock.GetUtcNow() - inbox.Value.QuarantineRetention;
        var deleted = await InboundMailRetention.DeleteAsync(db, "'quarantined'", before, ct);
        if (deleted > 0)
        {
            logger.LogInformation("Deleted {Count} quarantined message(s) quarantined before {Before:u}", deleted, before);
        }

        return deleted;
    }
}
