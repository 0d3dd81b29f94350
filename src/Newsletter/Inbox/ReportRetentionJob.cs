using System.ComponentModel;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Newsletter.Inbox;

/// <summary>
/// Deletes delivery reports and auto-replies once <c>Newsletter:Inbox:ReportRetention</c> has passed since they were
/// read, a thousand rows per statement. The bounces a report recorded stay, without it (migration 0022): a reader's
/// failures keep counting towards stopping them, and the admin pages and the reader's data export keep listing them.
/// Runs hourly; the mailbox's Processed folder is left to the mail server's own quotas.
/// </summary>
public sealed class ReportRetentionJob(
    NpgsqlDataSource db,
    IOptions<InboxOptions> inbox,
    TimeProvider clock,
    ILogger<ReportRetentionJob> logger)
{
    public const string RecurringJobId = "report-retention";

    [AutomaticRetry(Attempts = 0)] // It runs again within the hour.
    [DisplayName("Delete delivery reports and auto-replies past their retention")]
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var before = clock.GetUtcNow() - inbox.Value.ReportRetention;
        var deleted = await InboundMailRetention.DeleteAsync(db, "'report', 'auto_reply'", before, ct);
        if (deleted > 0)
        {
            logger.LogInformation("Deleted {Count} delivery report(s) and auto-reply(s) read before {Before:u}", deleted, before);
        }

        return deleted;
    }
}
