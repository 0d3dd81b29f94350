using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Database;
using Newsletter.Digests;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.IntegrationTests.Digests;

/// <summary>
/// A send batch on a live worker: batches that start together each read their rows, and whatever fails once a batch is
/// leased leaves it free for the next run, so no reader waits for a restart.
/// </summary>
public sealed class SendBatchLeaseTests
{
    private static readonly DateTimeOffset FannedOut = FannedOutGeneration.At;

    [Fact]
    public async Task ReadBatch_ManyBatchesStartAtOnceOnAFreshWorker_EachReadsItsRows()
    {
        const int Batches = 16;
        const int BatchSize = 25;
        await using var app = await TestApp.BuildAsync();
        // One reader in five paused since the fan-out: their rows are skipped as the batch is read.
        var deliveries = await FannedOutGeneration.CreateAsync(app, Batches * BatchSize, pausedEvery: 5);
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var asyncCommit = app.Services.GetRequiredKeyedService<NpgsqlDataSource>(DatabaseServices.AsyncCommit);

        for (var round = 0; round < 10; round++)
        {
            // Every row of the generation open again and every paused reader still paused, as right after the fan-out.
            await app.ExecuteAsync("update deliveries set status = 'pending', error = null");
            // A fresh key store each round: every batch's read is the first for its worker.
            var ledger = new DeliveryLedger(db, asyncCommit, new DigestLinkKeyStore(db), TimeProvider.System, NullLogger<DeliveryLedger>.Instance);
            var reads = Enumerable.Range(0, Batches).Select(b => Task.Run(() =>
                ledger.ReadBatchAsync(1, 1, deliveries[b * BatchSize], deliveries[((b + 1) * BatchSize) - 1], Ct), Ct)).ToList();
            // A read that hangs fails the test instead of stalling it: a reader disposed twice hung this way.
            var batches = await Task.WhenAll(reads).WaitAsync(TimeSpan.FromMinutes(1), Ct);

            Assert.All(batches, work => Assert.Equal(BatchSize - (BatchSize / 5), work.Count));
            Assert.All(batches.SelectMany(w => w), row => Assert.Equal(DigestLinkKeys.TokenLength, row.Tokens.Manage.Length));
        }
    }

    [Fact]
    public async Task Run_FailsRightAfterTheLease_TheNextRunSendsTheBatch()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await TestApp.BuildAsync(smtp);
        string[] readers = ["first@lab.example", "second@lab.example", "third@lab.example"];
        foreach (var email in readers)
        {
            await app.AddSubscriberAsync(email, "diffusion");
        }
        var issueId = await app.IngestSamplePapersSayingAsync("diffusion");
        await app.Services.GetRequiredService<FanOutJob>().RunAsync(issueId, 1, Ct);
        var (from, to) = Assert.Single(await app.Services.GetRequiredService<DeliveryLedger>().OpenBatchesAsync(issueId, 1, 500, Ct));
        var job = app.Services.GetRequiredService<SendBatchJob>();

        // The link keys cannot be read: the run fails just after it leased the batch, as Npgsql's exception did.
        var ledger = app.Ledger;
        await ledger.ScalarAsync("create table held_keys as select * from digest_link_keys; delete from digest_link_keys", Ct);
        await Assert.ThrowsAsync<InvalidOperationException>(() => job.RunAsync(issueId, 1, from, to, Ct));
        Assert.Equal(0L, await ledger.ScalarAsync(
            "select count(*) from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())", Ct));

        // Hangfire's retry, on the same worker.
        await ledger.ScalarAsync("insert into digest_link_keys select * from held_keys", Ct);
        await job.RunAsync(issueId, 1, from, to, Ct);

        Assert.Equal(readers.Order(), smtp.Received.Select(m => m.Recipients.Single()).Order());
        Assert.All((await ledger.StatusByEmailAsync(issueId, 1)).Values, status => Assert.Equal("sent", status));
    }

    [Fact]
    public async Task OpenBatches_QueuedAgainWhileABatchIsSending_EveryUnsentRowOfItStaysUnderItsLease()
    {
        const int BatchSize = 10;
        await using var app = await TestApp.BuildAsync();
        var deliveries = await FannedOutGeneration.CreateAsync(app, 3 * BatchSize);
        var ledger = app.Services.GetRequiredService<DeliveryLedger>();
        var batches = await ledger.OpenBatchesAsync(1, 1, BatchSize, Ct);
        Assert.Equal(3, batches.Count);

        // The first batch is sending: four digests are out, six to go.
        await using var sending = await ledger.TryLeaseBatchAsync(batches[0].From, "worker-a:1", Ct);
        Assert.NotNull(sending);
        foreach (var id in deliveries[..4])
        {
            await sending.RecordAsync(new RecordedOutcome(id, DeliveryStatus.Sent, "250 ok", null, null, null), Ct);
        }
        await sending.WrittenAsync();

        // A fan-out run again (a retried job, the dashboard's Requeue) queues the open batches once more.
        var again = await ledger.OpenBatchesAsync(1, 1, BatchSize, Ct);

        // Each unsent row of the sending batch is in a batch that cannot be leased while it sends, so no digest goes twice.
        foreach (var id in deliveries[4..BatchSize])
        {
            var (from, _) = Assert.Single(again, b => b.From <= id && id <= b.To);
            await using var other = await ledger.TryLeaseBatchAsync(from, "worker-b:1", Ct);
            Assert.Null(other);
        }
        Assert.Equal(batches.Skip(1), again.Skip(1));
    }

    [Theory]
    [InlineData("one", 0)]
    [InlineData("weekly", 1)]
    public async Task ReadBatch_ARetryDueAfterALaterGenerationReachedTheReader_SkippedOnlyWhenThatWasAReSend(string laterScope, int expectedWork)
    {
        await using var app = await TestApp.BuildAsync();
        var deliveries = await FannedOutGeneration.CreateAsync(app, subscribers: 1);
        await app.ExecuteAsync("update deliveries set status = 'deferred', attempts = 1, next_attempt_at = now() - interval '1 minute'");
        // A later generation of the same issue for the same reader: an admin's re-send, or the week it ended.
        await app.ExecuteAsync(
            """
            insert into delivery_generations (issue_id, generation, scope, requested_by, requested_at, fanned_out_at)
            values (1, 2, @scope, 'test', now(), now());
            insert into deliveries (issue_id, subscriber_id, generation, status, paper_ids, created_at, updated_at)
            select 1, subscriber_id, 2, 'pending', '{}', now(), now() from deliveries where generation = 1;
            """, ("scope", laterScope));

        var work = await app.Services.GetRequiredService<DeliveryLedger>().ReadBatchAsync(1, 1, deliveries[0], deliveries[0], Ct);

        // A weekly digest left this row's papers out as on their way, so the row must still bring them.
        Assert.Equal(expectedWork, work.Count);
        Assert.Equal(expectedWork == 0 ? "skipped" : "deferred", await app.ScalarAsync<string>("select status from deliveries where generation = 1"));
    }

    [Fact]
    public async Task Run_AReaderUnsubscribesWhileTheBatchIsSending_GetsNothingAfterAFewSeconds()
    {
        var (leaving, received, statuses, error) = await SendWhileAnotherReaderStopsAsync((services, id) =>
            services.GetRequiredService<SubscriberStore>().TransitionAsync(id, [SubscriberStatus.Active], SubscriberStatus.Unsubscribed, Ct));

        Assert.DoesNotContain(leaving, received);
        Assert.Equal(2, received.Count);
        Assert.Equal("skipped", statuses[leaving]);
        Assert.Equal("the subscriber is no longer active", error);
    }

    [Fact]
    public async Task Run_AnAdminDeletesAReaderWhileTheBatchIsSending_TheyGetNothingAfterAFewSeconds()
    {
        // The admin erases the reader with all their data.
        var (erased, received, _, _) = await SendWhileAnotherReaderStopsAsync((services, id) =>
            services.GetRequiredService<SubscriberStore>().DeleteAsync(id, Ct));

        Assert.DoesNotContain(erased, received);
        Assert.Equal(2, received.Count);
    }

    /// <summary>
    /// Three readers in one batch; the server holds the first digest unanswered (a slow server, or a rate limit's wait)
    /// while <paramref name="stop"/> acts on another reader, then ten seconds pass. Returns that reader, the addresses
    /// the server received, the ledger's statuses and that reader's row's error (null without a row).
    /// </summary>
    private static async Task<(string Stopped, List<string> Received, Dictionary<string, string> Statuses, string? Error)> SendWhileAnotherReaderStopsAsync(
        Func<IServiceProvider, long, Task<bool>> stop)
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.BuildAsync(smtp, replace: s => s.AddSingleton<TimeProvider>(clock));
        var readers = new Dictionary<string, long>();
        foreach (var email in new[] { "first@lab.example", "second@lab.example", "third@lab.example" })
        {
            readers[email] = (await app.AddSubscriberAsync(email, "diffusion")).Id;
        }
        var issueId = await app.IngestSamplePapersSayingAsync("diffusion");
        await app.Services.GetRequiredService<FanOutJob>().RunAsync(issueId, 1, Ct);
        var (from, to) = Assert.Single(await app.Services.GetRequiredService<DeliveryLedger>().OpenBatchesAsync(issueId, 1, 500, Ct));

        var hold = smtp.HoldNextMessage();
        var sending = app.Services.GetRequiredService<SendBatchJob>().RunAsync(issueId, 1, from, to, Ct);
        var first = (await hold.Arrived.WaitAsync(Eventually.DefaultTimeout, Ct)).Recipients.Single();
        var stopped = readers.Keys.First(email => email != first);
        Assert.True(await stop(app.Services, readers[stopped]));
        clock.Advance(TimeSpan.FromSeconds(10));
        hold.Release();
        await sending.WaitAsync(Eventually.DefaultTimeout, Ct);

        var errors = await app.ReadAsync("select error from deliveries where subscriber_id = @id",
            reader => reader.IsDBNull(0) ? null : reader.GetString(0), ("id", readers[stopped]));
        return (stopped, [.. smtp.Received.SelectMany(m => m.Recipients)], await app.Ledger.StatusByEmailAsync(issueId, 1), errors.SingleOrDefault());
    }

    [Fact]
    public async Task Lease_SentOutcome_InTheLedgerBeforeTheNextSendWithItsOwnTime()
    {
        var firstAccepted = FannedOut + TimeSpan.FromMinutes(1);
        var clock = new FakeTimeProvider(firstAccepted);
        await using var app = await TestApp.BuildAsync(replace: s => s.AddSingleton<TimeProvider>(clock));
        var deliveries = await FannedOutGeneration.CreateAsync(app, subscribers: 3, pausedEvery: 100);
        var ledger = app.Services.GetRequiredService<DeliveryLedger>();

        var lease = await ledger.TryLeaseBatchAsync(deliveries[0], "worker-a:1", Ct);
        Assert.NotNull(lease);
        await lease.RecordAsync(new RecordedOutcome(deliveries[0], DeliveryStatus.Sent, "250 ok", null, null, null), Ct);
        await lease.WrittenAsync();
        Assert.Equal<(string, DateTimeOffset?)>([("sent", firstAccepted), ("pending", null), ("pending", null)], await RowsAsync(app));

        clock.Advance(TimeSpan.FromMilliseconds(100));
        await lease.RecordAsync(new RecordedOutcome(deliveries[1], DeliveryStatus.Sent, "250 ok", null, null, null), Ct);
        // A clean end of the batch writes the last one too.
        await lease.DisposeAsync();
        Assert.Equal<(string, DateTimeOffset?)>([("sent", firstAccepted), ("sent", clock.GetUtcNow()), ("pending", null)], await RowsAsync(app));
    }

    private static Task<List<(string Status, DateTimeOffset? SentAt)>> RowsAsync(TestApp app) =>
        app.ReadAsync("select status, sent_at from deliveries order by id",
            reader => (reader.GetString(0), reader.IsDBNull(1) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(1)));
}
