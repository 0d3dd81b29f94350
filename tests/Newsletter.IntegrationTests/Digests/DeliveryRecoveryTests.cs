using Microsoft.Extensions.DependencyInjection;
using Newsletter.Digests;

namespace Newsletter.IntegrationTests.Digests;

/// <summary>
/// The recovery job against a real PostgreSQL and Hangfire storage: open ledger rows nobody has touched for
/// <see cref="DeliveryRecoveryJob.StaleAfter"/> get their send batches queued again; a batch that is being sent,
/// which records each row's outcome as it goes, is left alone; a lease whose session has run nothing for longer than
/// any send takes is ended, so the batch's next run can take it.
/// </summary>
public sealed class DeliveryRecoveryTests
{
    private static readonly DateTimeOffset FannedOut = FannedOutGeneration.At;

    [Fact]
    public async Task Recovery_OpenRowsUntouchedForLongerThanStaleAfter_TheirBatchIsQueuedAgain()
    {
        var clock = new SettableClock(FannedOut);
        await using var app = await AppOnAsync(clock);
        await FannedOutGeneration.CreateAsync(app, subscribers: 3);

        clock.Now = FannedOut + DeliveryRecoveryJob.StaleAfter + TimeSpan.FromMinutes(1);
        await app.Services.GetRequiredService<DeliveryRecoveryJob>().RunAsync(Ct);

        Assert.Equal(1L, await QueuedSendBatchesAsync(app));
    }

    [Fact]
    public async Task Recovery_BatchRecordedAnOutcomeRecently_NothingQueued()
    {
        var clock = new SettableClock(FannedOut);
        await using var app = await AppOnAsync(clock);
        var deliveries = await FannedOutGeneration.CreateAsync(app, subscribers: 3);

        // A slow (rate-limited) batch: it sent the first digest five minutes after the fan-out and is on the second one now.
        clock.Now = FannedOut + TimeSpan.FromMinutes(5);
        var ledger = app.Services.GetRequiredService<DeliveryLedger>();
        await using (var lease = await ledger.TryLeaseBatchAsync(deliveries[0], "worker-a:1", Ct))
        {
            Assert.NotNull(lease);
            await lease.RecordAsync(new RecordedOutcome(deliveries[0], DeliveryStatus.Sent, "250 ok", null, null, null), Ct);
        }

        clock.Now = FannedOut + DeliveryRecoveryJob.StaleAfter + TimeSpan.FromMinutes(1);
        await app.Services.GetRequiredService<DeliveryRecoveryJob>().RunAsync(Ct);

        Assert.Equal(0L, await QueuedSendBatchesAsync(app));
        Assert.Equal("worker-a:1", await app.ScalarAsync<string>("select claimed_by from deliveries where id = @id", ("id", deliveries[0])));
    }

    [Fact]
    public async Task Recovery_LeaseIdleLongerThanAnySend_ItsSessionEndsAndTheBatchIsQueuedAgain()
    {
        var clock = new SettableClock(FannedOut);
        await using var app = await AppOnAsync(clock);
        var deliveries = await FannedOutGeneration.CreateAsync(app, subscribers: 3);
        var ledger = app.Services.GetRequiredService<DeliveryLedger>();
        // A run that stopped on a live worker with its batch leased: nothing else ends its session.
        var stuck = await ledger.TryLeaseBatchAsync(deliveries[0], "worker-a:1", Ct);
        Assert.NotNull(stuck);

        clock.Now = TimeProvider.System.GetUtcNow() + DeliveryRecoveryJob.StaleAfter + TimeSpan.FromMinutes(1);
        await app.Services.GetRequiredService<DeliveryRecoveryJob>().RunAsync(Ct);

        Assert.Equal(1L, await QueuedSendBatchesAsync(app));
        await using (var next = await ledger.TryLeaseBatchAsync(deliveries[0], "worker-b:1", Ct))
        {
            Assert.NotNull(next);
        }
        await stuck.DisposeAsync();
    }

    [Fact]
    public async Task Recovery_LeaseIdleForLessThanASendMayTake_StaysWithItsRun()
    {
        var clock = new SettableClock(FannedOut);
        await using var app = await AppOnAsync(clock);
        var deliveries = await FannedOutGeneration.CreateAsync(app, subscribers: 3);
        var ledger = app.Services.GetRequiredService<DeliveryLedger>();
        await using var running = await ledger.TryLeaseBatchAsync(deliveries[0], "worker-a:1", Ct);
        Assert.NotNull(running);

        // A digest may take minutes (a slow server's timeouts and retries): such a wait is not a stuck run.
        clock.Now = TimeProvider.System.GetUtcNow() + TimeSpan.FromMinutes(5);
        await app.Services.GetRequiredService<DeliveryRecoveryJob>().RunAsync(Ct);

        Assert.Null(await ledger.TryLeaseBatchAsync(deliveries[0], "worker-b:1", Ct));
        await running.RecordAsync(new RecordedOutcome(deliveries[0], DeliveryStatus.Sent, "250 ok", null, null, null), Ct);
        await running.WrittenAsync();
    }

    /// <summary>The application's services on a database of their own, telling the time by <paramref name="clock"/>.</summary>
    private static Task<TestApp> AppOnAsync(TimeProvider clock) => TestApp.BuildAsync(replace: s => s.AddSingleton(clock));

    private static Task<long> QueuedSendBatchesAsync(TestApp app) =>
        app.ScalarAsync<long>("select count(*) from hangfire.job where invocationdata::text like '%SendBatchJob%'");

    private sealed class SettableClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
