using Newsletter.Digests;

namespace Newsletter.IntegrationTests.Digests;

/// <summary>
/// A worker stopped in the middle of sending, then a fresh one: nothing lost, and nothing twice beyond the documented
/// crash window (<see cref="DeliveryOptions.OutcomesPerWrite"/> per connection after SIGKILL, none after SIGTERM).
/// </summary>
public sealed class WorkerCrashTests
{
    private const int Subscribers = 3000;
    private const int Connections = 2;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Send_WorkerKilledMidWayAndRestarted_EveryDigestArrivesAndFewTwice()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await IssueForSubscribersAsync(smtp);

        await using (var first = WorkerProcess.Start(app.Settings, "crash-worker-1"))
        {
            await smtp.WaitForMessagesAsync(Subscribers / 5, TimeSpan.FromMinutes(3), Ct);
            await first.KillAsync();
        }
        var beforeRestart = smtp.Received.Count;
        Assert.True(beforeRestart < Subscribers, "the worker was killed before it finished");

        var perRecipient = await RestartAndSettleAsync(app, smtp, "crash-worker-2");
        Assert.Equal(Subscribers, perRecipient.Count);
        // The documented window: digests the server took (250) just before the kill, whose outcomes were still waiting
        // to be written, go out again. At most OutcomesPerWrite per connection the killed worker had open.
        var repeated = perRecipient.Where(p => p.Value > 1).ToList();
        Assert.True(repeated.Count <= Connections * new DeliveryOptions().OutcomesPerWrite, $"{repeated.Count} recipients got a digest twice");
        Assert.All(repeated, p => Assert.Equal(2, p.Value));
        Assert.True(smtp.Received.Count > beforeRestart, "the second worker sent the rest");
    }

    [Fact]
    public async Task Send_WorkerStoppedMidWayAndRestarted_EveryDigestArrivesExactlyOnce()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await IssueForSubscribersAsync(smtp);

        await using (var first = WorkerProcess.Start(app.Settings, "stopped-worker-1"))
        {
            await smtp.WaitForMessagesAsync(Subscribers / 5, TimeSpan.FromMinutes(3), Ct);
            await first.StopAsync(TimeSpan.FromMinutes(1));
        }
        // A clean stop finishes the digests on the wire and writes every outcome still waiting before it exits.
        var beforeRestart = smtp.Received.Count;
        Assert.True(beforeRestart < Subscribers, "the worker was stopped before it finished");
        Assert.Equal((long)beforeRestart, await app.ScalarAsync<long>("select count(*) from deliveries where status = 'sent'"));

        var perRecipient = await RestartAndSettleAsync(app, smtp, "stopped-worker-2");
        Assert.Equal(Subscribers, perRecipient.Count);
        Assert.All(perRecipient, p => Assert.Equal(1, p.Value));
        Assert.True(smtp.Received.Count > beforeRestart, "the second worker sent the rest");
    }

    /// <summary>The sample issue ingested for <see cref="Subscribers"/> active subscribers who all match it; no worker runs yet.</summary>
    private static async Task<TestApp> IssueForSubscribersAsync(SmtpCapture smtp)
    {
        var app = await TestApp.BuildAsync(smtp: smtp, settings: new Dictionary<string, string?>
        {
            ["Newsletter:Smtp:Connections"] = Connections.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        try
        {
            await app.ExecuteAsync(
                $"""
                insert into subscribers (email, status, interests, format, created_at, updated_at)
                select 'reader' || g || '@lab.example', 'active', 'diffusion', 'html', now(), now() from generate_series(1, {Subscribers}) g
                """);
            await app.IngestSampleAsync();
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>A fresh worker finishes the issue; then how many digests each recipient got, and the ledger agrees.</summary>
    private static async Task<Dictionary<string, int>> RestartAndSettleAsync(TestApp app, SmtpCapture smtp, string name)
    {
        await using (var second = WorkerProcess.Start(app.Settings, name))
        {
            await Eventually.WaitAsync(() => app.Ledger.SettledAsync(1, Subscribers), "the restarted worker to finish the issue", TimeSpan.FromMinutes(4));
        }
        Assert.Equal((long)Subscribers, await app.ScalarAsync<long>("select count(*) from deliveries where status = 'sent'"));
        return smtp.Received.GroupBy(m => m.Recipients.Single()).ToDictionary(g => g.Key, g => g.Count());
    }
}
