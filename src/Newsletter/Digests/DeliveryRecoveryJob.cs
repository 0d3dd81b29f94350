using System.ComponentModel;
using Hangfire;
using Microsoft.Extensions.Options;
using Newsletter.Database;
using Newsletter.Mail;
using Npgsql;

namespace Newsletter.Digests;

/// <summary>
/// The safety net under Hangfire: finds generations never fanned out and delivery rows nobody has touched for a
/// while (a job that exhausted its retries, a queue that was lost, a run stuck with its batch leased) and queues their
/// work again. Every job it queues is idempotent against the ledger, so a false alarm costs nothing but a query.
/// </summary>
public sealed class DeliveryRecoveryJob(
    NpgsqlDataSource db,
    DeliveryLedger ledger,
    IBackgroundJobClient jobs,
    IOptions<DeliveryOptions> options,
    IOptions<SmtpOptions> smtp,
    TimeProvider clock,
    ILogger<DeliveryRecoveryJob> logger)
{
    public const string RecurringJobId = "delivery-recovery";
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(10);

    [AutomaticRetry(Attempts = 0)] // It runs again in a few minutes anyway.
    [DisplayName("Recover stalled deliveries")]
    public async Task RunAsync(CancellationToken ct)
    {
        // A running batch writes each digest's outcome on its lease's connection. A lease idle for longer than any send
        // takes belongs to a run that stopped sending (hung, on a live worker) and keeps every later run of the batch
        // out: its session is ended, and the batch's rows are stale below, so they are queued again.
        var idleFor = TimeSpan.FromTicks(Math.Max(StaleAfter.Ticks, SendBatchJob.LongestSend(smtp.Value).Ticks));
        var freed = await AdvisoryLocks.EndIdleHoldersAsync(db, LockSpace.SendBatch, clock.GetUtcNow() - idleFor, ct);
        if (freed.Count > 0)
        {
            logger.LogWarning("Ended the idle sessions that held the send batches from deliveries {FirstDeliveryIds}", freed);
        }

        var staleBefore = clock.GetUtcNow() - StaleAfter;
        await using var command = db.CreateCommand(
            """
            select issue_id, generation, false from delivery_generations
            where fanned_out_at is null and requested_at < @stale
            union
            select o.issue_id, o.generation, true from (
                select distinct issue_id, generation from deliveries
                where status in ('pending', 'sending') or (status = 'deferred' and next_attempt_at <= @now)
            ) o
            -- Alive: a batch records each outcome as it goes, so some row of the generation changed recently.
            where not exists (
                select 1 from deliveries r
                where r.issue_id = o.issue_id and r.generation = o.generation and r.updated_at >= @stale)
            """);
        command.Parameters.AddWithValue("stale", staleBefore);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        var stalled = new List<(long Issue, int Generation, bool FannedOut)>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                stalled.Add((reader.GetInt64(0), reader.GetInt32(1), reader.GetBoolean(2)));
            }
        }

        foreach (var (issueId, generation, fannedOut) in stalled)
        {
            if (!fannedOut)
            {
                FanOutJob.Queue(jobs, issueId, generation);
                continue;
            }
            await SendBatchJob.QueueOpenBatchesAsync(jobs, ledger, issueId, generation, options.Value.BatchSize, ct);
        }
        if (stalled.Count > 0)
        {
            logger.LogWarning("Re-queued the work of {Count} stalled issue generation(s)", stalled.Count);
        }
    }
}
