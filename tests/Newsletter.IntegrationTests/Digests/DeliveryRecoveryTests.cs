using Microsoft.Extensions.DependencyInjection;
using Newsletter.Digests;

namespace Newsletter.IntegrationTests.Digests;

/// <summary>
/// The recovery job against a real PostgreSQL and Hangfire storage: open ledger rows nobody has touched for
/// <see cref="DeliveryRecoveryJob.StaleAfter"/> get their send batches queued again; a batch that is being sent,
/// which records each row's outcome as it goes, is left alone.
/// </summary>
public sealed class DeliveryRecoveryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly DateTimeOffset FannedOut = new(2025, 3, 11, 15, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Recovery_OpenRowsUntouchedForLongerThanStaleAfter_TheirBatchIsQueuedAgain()
    {
        var clock = new SettableClock(FannedOut);
        await using var app = await TestApp.BuildAsync(replace: s => s.AddSingleton<TimeProvider>(clock));
        await FannedOutGenerationAsync(app, subscribers: 3);

        clock.Now = FannedOut + DeliveryRecoveryJob.StaleAfter + TimeSpan.FromMinutes(1);
        await app.Services.GetRequiredService<DeliveryRecoveryJob>().RunAsync(Ct);

        Assert.Equal(1L, await QueuedSendBatchesAsync(app));
    }

    [Fact]
    public async Task Recovery_BatchRecordedAnOutcomeRecently_NothingQueued()
    {
        var clock = new SettableClock(FannedOut);
        await using var app = await TestApp.BuildAsync(replace: s => s.AddSingleton<TimeProvider>(clock));
        var deliveries = await FannedOutGenerationAsync(app, subscribers: 3);

        // A slow (rate-limited) batch: it sent the first digest five minutes after the fan-out and is on the second one now.
        clock.Now = FannedOut + TimeSpan.FromMinutes(5);
        var ledger = app.Services.GetRequiredService<DeliveryLedger>();
        await using (var lease = await ledger.TryLeaseBatchAsync(deliveries[0], "worker-a:1", outcomesPerWrite: 32, Ct))
        {
            Assert.NotNull(lease);
            await lease.RecordAsync(new RecordedOutcome(deliveries[0], DeliveryStatus.Sent, "250 ok", null, null, null), Ct);
        }

        clock.Now = FannedOut + DeliveryRecoveryJob.StaleAfter + TimeSpan.FromMinutes(1);
        await app.Services.GetRequiredService<DeliveryRecoveryJob>().RunAsync(Ct);

        Assert.Equal(0L, await QueuedSendBatchesAsync(app));
        Assert.Equal("worker-a:1", await app.ScalarAsync<string>("select claimed_by from deliveries where id = @id", ("id", deliveries[0])));
    }

    /// <summary>
    /// The crash window's time bound: sent outcomes wait to be written together, but none longer than
    /// <see cref="BatchLease.MaxOutcomeDelay"/>, and each keeps the time its 250 came as <c>sent_at</c>.
    /// </summary>
    [Fact]
    public async Task Lease_SentOutcomesWaitAtMostTheDelay_ThenWrittenEachWithItsOwnTime()
    {
        var clock = new SettableClock(FannedOut);
        await using var app = await TestApp.BuildAsync(replace: s => s.AddSingleton<TimeProvider>(clock));
        var deliveries = await FannedOutGenerationAsync(app, subscribers: 3);
        var ledger = app.Services.GetRequiredService<DeliveryLedger>();
        var firstAccepted = FannedOut + TimeSpan.FromMinutes(1);
        var secondAccepted = firstAccepted + TimeSpan.FromMilliseconds(100);

        clock.Now = firstAccepted;
        await using var lease = await ledger.TryLeaseBatchAsync(deliveries[0], "worker-a:1", outcomesPerWrite: 32, Ct);
        Assert.NotNull(lease);
        await lease.RecordAsync(new RecordedOutcome(deliveries[0], DeliveryStatus.Sent, "250 ok", null, null, null), Ct);
        clock.Now = secondAccepted;
        await lease.RecordAsync(new RecordedOutcome(deliveries[1], DeliveryStatus.Sent, "250 ok", null, null, null), Ct);
        await lease.WriteDueAsync(Ct);
        Assert.Equal(["pending", "pending", "pending"], (await DeliveriesAsync(app)).Select(r => r.Status));

        clock.Now = firstAccepted + BatchLease.MaxOutcomeDelay;
        await lease.WriteDueAsync(Ct);
        var rows = await DeliveriesAsync(app);
        Assert.Equal(["sent", "sent", "pending"], rows.Select(r => r.Status));
        Assert.Equal([firstAccepted, secondAccepted, (DateTimeOffset?)null], rows.Select(r => r.SentAt));
    }

    private static Task<List<(string Status, DateTimeOffset? SentAt)>> DeliveriesAsync(TestApp app) =>
        app.ReadAsync("select status, sent_at from deliveries order by id",
            reader => (reader.GetString(0), reader.IsDBNull(1) ? null : (DateTimeOffset?)reader.GetFieldValue<DateTimeOffset>(1)));

    /// <summary>An issue whose first generation was fanned out at <see cref="FannedOut"/>: one pending row per subscriber.</summary>
    private static async Task<long[]> FannedOutGenerationAsync(TestApp app, int subscribers)
    {
        var ids = await app.ReadAsync(
            """
            insert into inbound_messages (message_id, sha256, source, size_bytes, raw, received_at, status)
            values ('recovery@test', '\x01', 'cli', 1, '\x01', @at, 'ingested');
            insert into issues (issue_date, subject, inbound_message_id, paper_count, created_at)
            select '2025-03-11', 'Trending papers', id, 0, @at from inbound_messages;
            insert into delivery_generations (issue_id, generation, scope, requested_by, requested_at, fanned_out_at)
            select id, 1, 'issue', 'inbox', @at, @at from issues;
            insert into subscribers (email, status, interests, created_at, updated_at)
            select 'reader' || n || '@test.example', 'active', 'agents', @at, @at from generate_series(1, @count) n;
            insert into deliveries (issue_id, subscriber_id, generation, status, paper_ids, created_at, updated_at)
            select i.id, s.id, 1, 'pending', '{}', @at, @at from issues i cross join subscribers s order by s.id
            returning id;
            """, reader => reader.GetInt64(0), ("at", FannedOut), ("count", subscribers));
        return [.. ids.Order()];
    }

    private static Task<long> QueuedSendBatchesAsync(TestApp app) =>
        app.ScalarAsync<long>("select count(*) from hangfire.job where invocationdata::text like '%SendBatchJob%'");

    private sealed class SettableClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
