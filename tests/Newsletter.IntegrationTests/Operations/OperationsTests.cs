using System.Net;
using Newsletter.Hosting;
using Npgsql;

namespace Newsletter.IntegrationTests.Operations;

public sealed class OperationsTests
{
    [Fact]
    public async Task Jobs_AnotherHostInTheProcessStopped_StillRun()
    {
        // Hangfire keeps its logging in a static: bound to the host started last, it broke every other host's
        // workers once that host stopped (ObjectDisposedException on each fetch), and their jobs waited.
        await using var app = await TestApp.StartWithSmtpAsync();
        await (await TestApp.StartAsync(role: ProcessRole.All)).DisposeAsync();
        using var client = app.CreateClient();
        var token = await Antiforgery.TokenAsync(client, "subscribe");

        using var response = await client.PostAsync("subscribe", new FormUrlEncodedContent(
        [
            new("__RequestVerificationToken", token), new("Email", "after-restart@example.org"), new("Interests", "diffusion"), new("Format", "Html"),
        ]), Ct);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var mail = Assert.Single(await app.Smtp.WaitForMessagesAsync(1, cancellationToken: Ct));
        Assert.Equal(["after-restart@example.org"], mail.Recipients);
    }

    [Fact]
    public async Task Readyz_PostgresStoppedThenBack_UnhealthyThenHealthy()
    {
        await using var postgres = await PrivatePostgres.StartAsync(Ct);
        var folders = Directory.CreateTempSubdirectory("newsletter-ready-").FullName;
        await using var app = await TestApp.StartAsync(connectionString: postgres.ConnectionString, settings: new Dictionary<string, string?>
        {
            ["Newsletter:Inbox:DropFolder"] = Path.Combine(folders, "inbox"),
            ["Newsletter:Smtp:PickupFolder"] = Path.Combine(folders, "outbox"),
        });
        using var http = app.CreateClient();

        var healthy = await http.GetAsync(new Uri("readyz", UriKind.Relative), Ct);
        await postgres.StopAsync(Ct);
        // The answer is kept for a few seconds, so it turns with a small delay.
        await Eventually.WaitAsync(async () => (await http.GetAsync(new Uri("readyz", UriKind.Relative), Ct)).StatusCode == HttpStatusCode.ServiceUnavailable,
            Eventually.DefaultTimeout, "/readyz to notice", Ct);
        using var detailed = new HttpRequestMessage(HttpMethod.Get, "readyz");
        detailed.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestApp.AdminApiToken);
        var down = await http.SendAsync(detailed, Ct);
        var downBody = await down.Content.ReadAsStringAsync(Ct);
        var alive = await http.GetAsync(new Uri("healthz", UriKind.Relative), Ct);
        await postgres.StartAgainAsync(Ct);
        NpgsqlConnection.ClearAllPools();
        await Eventually.WaitAsync(async () => (await http.GetAsync(new Uri("readyz", UriKind.Relative), Ct)).StatusCode == HttpStatusCode.OK,
            "/readyz to recover");

        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Contains("postgresql", downBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    [Fact]
    public async Task FanOut_ThreeWorkerProcessesOnOneDatabase_EveryDigestOnceAndTheWorkShared()
    {
        const int subscribers = 5000;
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        // Small batches, so there are enough of them for three processes to share.
        await using var app = await TestApp.BuildAsync(smtp: smtp, settings: new Dictionary<string, string?> { ["Newsletter:Delivery:BatchSize"] = "250" });
        await app.ExecuteAsync(
            $"""
            insert into subscribers (email, status, interests, format, created_at, updated_at)
            select 'reader' || g || '@lab.example', 'active', case when g % 2 = 0 then 'diffusion' else 'ensemble' end, 'html', now(), now()
            from generate_series(1, {subscribers}) g
            """);

        var workers = Enumerable.Range(1, 3).Select(i => WorkerProcess.Start(app.Settings, $"scale-worker-{i}")).ToList();
        try
        {
            await app.IngestListingAsync(new DateOnly(2025, 3, 11), Samples.SamplePapersSaying("diffusion", "ensemble"));
            await smtp.WaitForMessagesAsync(subscribers, TimeSpan.FromMinutes(4), Ct);
            await Eventually.WaitAsync(() => app.Ledger.SettledAsync(1, subscribers), "the ledger to settle", TimeSpan.FromMinutes(1));
        }
        finally
        {
            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }
        }

        var perRecipient = smtp.Received.GroupBy(m => m.Recipients.Single()).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(subscribers, perRecipient.Count);
        Assert.All(perRecipient, p => Assert.Equal(1, p.Value));
        var processes = await app.ScalarAsync<long>("select count(distinct claimed_by) from deliveries where status = 'sent'");
        Assert.True(processes >= 2, $"only {processes} process(es) sent digests");
    }
}
