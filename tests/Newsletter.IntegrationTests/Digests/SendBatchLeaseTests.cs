using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Database;
using Newsletter.Digests;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Newsletter.Subscribers;
using Npgsql;
using Xunit;

namespace Newsletter.IntegrationTests.Digests;

/// <summary>
/// A send batch on a live worker: batches that start together each read their rows, and whatever fails once a batch is
/// leased leaves it free for the next run, so no reader waits for a restart.
/// </summary>
public sealed class SendBatchLeaseTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly DateTimeOffset FannedOut = new(2025, 3, 11, 15, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task ReadBatch_ManyBatchesStartAtOnceOnAFreshWorker_EachReadsItsRows()
    {
        const int Batches = 16;
        const int BatchSize = 25;
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var services = await TestServices.BuildAsync(database.ConnectionString);
        // One reader in five paused since the fan-out: their rows are skipped as the batch is read.
        var deliveries = await FannedOutGeneration.CreateAsync(database, FannedOut, Batches * BatchSize, pausedEvery: 5);
        var db = services.GetRequiredService<NpgsqlDataSource>();
        var asyncCommit = services.GetRequiredKeyedService<NpgsqlDataSource>(DatabaseServices.AsyncCommit);

        for (var round = 0; round < 10; round++)
        {
            await ReopenAsync(database);
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
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var services = await TestServices.BuildAsync(database.ConnectionString, TestApp.SmtpSettings(smtp));
        var subscribers = services.GetRequiredService<SubscriberStore>();
        string[] readers = ["first@lab.example", "second@lab.example", "third@lab.example"];
        foreach (var email in readers)
        {
            await subscribers.UpsertAsync(email, "diffusion", SubscriberStatus.Active, DigestFormat.Html, Ct);
        }
        var bytes = Samples.SampleEml;
        var issueId = (await services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(bytes, bytes.Length, "test"), Ct)).IssueId!.Value;
        await services.GetRequiredService<FanOutJob>().RunAsync(issueId, 1, Ct);
        var (from, to) = Assert.Single(await services.GetRequiredService<DeliveryLedger>().OpenBatchesAsync(issueId, 1, 500, Ct));
        var job = services.GetRequiredService<SendBatchJob>();

        // The link keys cannot be read: the run fails just after it leased the batch, as Npgsql's exception did.
        var ledger = new Ledger(database.ConnectionString);
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
    public async Task Lease_SentOutcome_InTheLedgerBeforeTheNextSendWithItsOwnTime()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        var firstAccepted = FannedOut + TimeSpan.FromMinutes(1);
        var clock = new FakeTimeProvider(firstAccepted);
        await using var services = await TestServices.BuildAsync(database.ConnectionString, replace: s => s.AddSingleton<TimeProvider>(clock));
        var deliveries = await FannedOutGeneration.CreateAsync(database, FannedOut, subscribers: 3, pausedEvery: 100);
        var ledger = services.GetRequiredService<DeliveryLedger>();

        var lease = await ledger.TryLeaseBatchAsync(deliveries[0], "worker-a:1", Ct);
        Assert.NotNull(lease);
        await lease.RecordAsync(new RecordedOutcome(deliveries[0], DeliveryStatus.Sent, "250 ok", null, null, null), Ct);
        await lease.WrittenAsync();
        Assert.Equal<(string, DateTimeOffset?)>([("sent", firstAccepted), ("pending", null), ("pending", null)], await RowsAsync(database));

        clock.Advance(TimeSpan.FromMilliseconds(100));
        await lease.RecordAsync(new RecordedOutcome(deliveries[1], DeliveryStatus.Sent, "250 ok", null, null, null), Ct);
        // A clean end of the batch writes the last one too.
        await lease.DisposeAsync();
        Assert.Equal<(string, DateTimeOffset?)>([("sent", firstAccepted), ("sent", clock.GetUtcNow()), ("pending", null)], await RowsAsync(database));
    }

    private static async Task<List<(string Status, DateTimeOffset? SentAt)>> RowsAsync(TestDatabase database)
    {
        await using var connection = await database.OpenConnectionAsync(Ct);
        await using var command = new NpgsqlCommand("select status, sent_at from deliveries order by id", connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<(string, DateTimeOffset?)>();
        while (await reader.ReadAsync(Ct))
        {
            rows.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1)));
        }
        return rows;
    }

    /// <summary>Every row of the generation open again and every paused reader still paused, as right after the fan-out.</summary>
    private static async Task ReopenAsync(TestDatabase database)
    {
        await using var connection = await database.OpenConnectionAsync(Ct);
        await using var command = new NpgsqlCommand("update deliveries set status = 'pending', error = null", connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

}
