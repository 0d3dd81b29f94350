using Newsletter.Mail;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Xunit;

namespace Newsletter.IntegrationTests.Digests;

/// <summary>
/// A worker stopped in the middle of sending, then a fresh one: nothing lost, and nothing twice beyond the documented
/// crash window (one digest per open SMTP connection after SIGKILL, none after SIGTERM).
/// </summary>
public sealed class WorkerCrashTests
{
    private const int Subscribers = 3000;

    /// <summary>The default number of SMTP connections per worker.</summary>
    private static readonly int Connections = new SmtpOptions().Connections;

    [Fact]
    public async Task Send_WorkerKilledMidWayAndRestarted_EveryDigestArrivesAndFewTwice()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        var settings = await IssueForSubscribersAsync(database, smtp);

        await using (var first = WorkerProcess.Start(settings, "crash-worker-1"))
        {
            await smtp.WaitForMessagesAsync(Subscribers / 5, TimeSpan.FromMinutes(3), Ct);
            await first.KillAsync();
        }
        var beforeRestart = smtp.Received.Count;
        Assert.True(beforeRestart < Subscribers, "the worker was killed before it finished");

        var perRecipient = await RestartAndSettleAsync(database, smtp, settings, "crash-worker-2");
        Assert.Equal(Subscribers, perRecipient.Count);
        // The documented window: a digest the server took (250) just before the kill, whose outcome was still being
        // written, goes out again. At most one per connection the killed worker had open.
        var repeated = perRecipient.Where(p => p.Value > 1).ToList();
        Assert.True(repeated.Count <= Connections, $"{repeated.Count} recipients got a digest twice");
        Assert.All(repeated, p => Assert.Equal(2, p.Value));
        Assert.True(smtp.Received.Count > beforeRestart, "the second worker sent the rest");
    }

    [Fact]
    public async Task Send_OneOfThreeWorkersKilledMidWay_EveryDigestArrivesAndFewTwice()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        var settings = await IssueForSubscribersAsync(database, smtp);
        var ledger = new Ledger(database.ConnectionString);

        await using var first = WorkerProcess.Start(settings, "shared-worker-1");
        // The first worker fans out and leases batches; the other two join the fan-out it is sending.
        await Eventually.WaitAsync(async () => await SentByAsync(ledger, first) >= 100, TimeSpan.FromMinutes(3),
            "the first worker to send", Ct);
        await using var second = WorkerProcess.Start(settings, "shared-worker-2");
        await using var third = WorkerProcess.Start(settings, "shared-worker-3");
        await smtp.WaitForMessagesAsync(Subscribers / 3, TimeSpan.FromMinutes(3), Ct);
        await first.KillAsync();
        Assert.True(smtp.Received.Count < Subscribers, "the worker was killed before the fan-out finished");

        // The two live workers take the killed one's batches once Hangfire hands its jobs out again.
        await Eventually.WaitAsync(() => ledger.SettledAsync(1, Subscribers), TimeSpan.FromMinutes(4),
            "the other workers to finish the issue", Ct);
        Assert.Equal((long)Subscribers, await ledger.ScalarAsync("select count(*) from deliveries where status = 'sent'", Ct));
        var perRecipient = smtp.Received.GroupBy(m => m.Recipients.Single()).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(Subscribers, perRecipient.Count);
        // At most one per connection of the killed worker; the live ones repeat nothing.
        var repeated = perRecipient.Where(p => p.Value > 1).ToList();
        Assert.True(repeated.Count <= Connections, $"{repeated.Count} recipients got a digest twice");
        Assert.All(repeated, p => Assert.Equal(2, p.Value));
    }

    [Fact]
    public async Task Send_WorkerStoppedMidWayAndRestarted_EveryDigestArrivesExactlyOnce()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        var settings = await IssueForSubscribersAsync(database, smtp);
        var ledger = new Ledger(database.ConnectionString);

        await using (var first = WorkerProcess.Start(settings, "stopped-worker-1"))
        {
            await smtp.WaitForMessagesAsync(Subscribers / 5, TimeSpan.FromMinutes(3), Ct);
            await first.StopAsync(TimeSpan.FromMinutes(1));
        }
        // A clean stop finishes the digests on the wire and writes every outcome still waiting before it exits.
        var beforeRestart = smtp.Received.Count;
        Assert.True(beforeRestart < Subscribers, "the worker was stopped before it finished");
        Assert.Equal((long)beforeRestart, await ledger.ScalarAsync("select count(*) from deliveries where status = 'sent'", Ct));

        var perRecipient = await RestartAndSettleAsync(database, smtp, settings, "stopped-worker-2");
        Assert.Equal(Subscribers, perRecipient.Count);
        Assert.All(perRecipient, p => Assert.Equal(1, p.Value));
        Assert.True(smtp.Received.Count > beforeRestart, "the second worker sent the rest");
    }

    /// <summary>How many outcomes the worker has recorded as sent (a row's worker is its host and process id).</summary>
    private static async Task<long> SentByAsync(Ledger ledger, WorkerProcess worker) =>
        (long)(await ledger.ScalarAsync(
            $"select count(*) from deliveries where status = 'sent' and claimed_by like '%:{worker.Id}'", Ct))!;

    /// <summary>The sample's diffusion papers ingested as an issue for <see cref="Subscribers"/> active subscribers who all match it.</summary>
    /// <returns>The settings a worker process joins that application with.</returns>
    private static async Task<IReadOnlyDictionary<string, string?>> IssueForSubscribersAsync(TestDatabase database, SmtpCapture smtp)
    {
        await using var app = await TestApp.BuildAsync(smtp, connectionString: database.ConnectionString, settings: new Dictionary<string, string?>
        {
            ["Newsletter:Smtp:Connections"] = Connections.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await app.ExecuteAsync(
            $"""
            insert into subscribers (email, status, interests, format, created_at, updated_at)
            select 'reader' || g || '@lab.example', 'active', 'diffusion', 'html', now(), now() from generate_series(1, {Subscribers}) g
            """);
        await app.IngestListingAsync(new DateOnly(2025, 3, 11), Samples.SamplePapersSaying("diffusion"));
        return app.Settings;
    }

    /// <summary>A fresh worker finishes the issue; then how many digests each recipient got, and the ledger agrees.</summary>
    private static async Task<Dictionary<string, int>> RestartAndSettleAsync(
        TestDatabase database, SmtpCapture smtp, IReadOnlyDictionary<string, string?> settings, string name)
    {
        var ledger = new Ledger(database.ConnectionString);
        await using (var second = WorkerProcess.Start(settings, name))
        {
            await Eventually.WaitAsync(() => ledger.SettledAsync(1, Subscribers), TimeSpan.FromMinutes(4),
                "the restarted worker to finish the issue", Ct);
        }
        Assert.Equal((long)Subscribers, await ledger.ScalarAsync("select count(*) from deliveries where status = 'sent'", Ct));
        return smtp.Received.GroupBy(m => m.Recipients.Single()).ToDictionary(g => g.Key, g => g.Count());
    }
}
