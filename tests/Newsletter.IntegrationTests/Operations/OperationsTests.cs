using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Hosting;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Digests;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Npgsql;
using Xunit;

namespace Newsletter.IntegrationTests.Operations;

public sealed class OperationsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Jobs_AnotherHostInTheProcessStopped_StillRun()
    {
        // Hangfire keeps its logging in a static: bound to the host started last, it broke every other host's
        // workers once that host stopped (ObjectDisposedException on each fetch), and their jobs waited.
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var other = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await TestWebApp.StartAsync(database.ConnectionString, Web.SubscriptionLinkTests.SmtpSettings(smtp), ProcessRole.All, Ct);
        await (await TestWebApp.StartAsync(other.ConnectionString, role: ProcessRole.All, ct: Ct)).DisposeAsync();
        using var client = app.CreateClient();
        var token = Web.WebTestData.AntiforgeryToken(await client.GetStringAsync("subscribe", Ct));

        using var response = await client.PostAsync("subscribe", new FormUrlEncodedContent(
        [
            new("__RequestVerificationToken", token), new("Email", "after-restart@example.org"), new("Interests", "diffusion"), new("Format", "Html"),
        ]), Ct);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var mail = Assert.Single(await smtp.WaitForMessagesAsync(1, cancellationToken: Ct));
        Assert.Equal(["after-restart@example.org"], mail.Recipients);
    }

    [Fact]
    public async Task Readyz_PostgresStoppedThenBack_UnhealthyThenHealthy()
    {
        await using var postgres = await PrivatePostgres.StartAsync(Ct);
        var folders = Directory.CreateTempSubdirectory("newsletter-ready-").FullName;
        await using var app = await TestWebApp.StartAsync(postgres.ConnectionString, new Dictionary<string, string?>
        {
            ["Newsletter:Inbox:DropFolder"] = Path.Combine(folders, "inbox"),
            ["Newsletter:Smtp:PickupFolder"] = Path.Combine(folders, "outbox"),
        }, ProcessRole.Web, Ct);
        using var http = app.CreateClient();

        var healthy = await http.GetAsync(new Uri("readyz", UriKind.Relative), Ct);
        await postgres.StopAsync(Ct);
        // The answer is kept for a few seconds, so it turns with a small delay.
        await Eventually.WaitAsync(async () => (await http.GetAsync(new Uri("readyz", UriKind.Relative), Ct)).StatusCode == HttpStatusCode.ServiceUnavailable,
            Eventually.DefaultTimeout, "/readyz to notice", Ct);
        using var detailed = new HttpRequestMessage(HttpMethod.Get, "readyz");
        detailed.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Admin.AdminTestKit.ApiToken);
        var down = await http.SendAsync(detailed, Ct);
        var downBody = await down.Content.ReadAsStringAsync(Ct);
        var alive = await http.GetAsync(new Uri("healthz", UriKind.Relative), Ct);
        await postgres.StartAgainAsync(Ct);
        NpgsqlConnection.ClearAllPools();
        await Eventually.WaitAsync(async () => (await http.GetAsync(new Uri("readyz", UriKind.Relative), Ct)).StatusCode == HttpStatusCode.OK,
            Eventually.DefaultTimeout, "/readyz to recover", Ct);

        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Contains("postgresql", downBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    [Fact]
    public async Task FanOut_ThreeWorkerProcessesOnOneDatabase_EveryDigestOnceAndTheWorkShared()
    {
        const int subscribers = 5000;
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        var settings = TestServices.DefaultSettings(database.ConnectionString);
        foreach (var (key, value) in DigestDeliveryTests.SmtpSettings(smtp))
        {
            settings[key] = value;
        }
        // Small batches, so there are enough of them for three processes to share.
        settings["Newsletter:Delivery:BatchSize"] = "250";
        var ledger = new Ledger(database.ConnectionString);
        await using (var services = await TestServices.BuildAsync(database.ConnectionString, settings))
        {
            await ledger.ScalarAsync(
                $"""
                insert into subscribers (email, status, interests, format, created_at, updated_at)
                select 'reader' || g || '@lab.example', 'active', case when g % 2 = 0 then 'diffusion' else 'ensemble' end, 'html', now(), now()
                from generate_series(1, {subscribers}) g
                """, Ct);
        }

        var workers = Enumerable.Range(1, 3).Select(i => WorkerProcess.Start(settings, $"scale-worker-{i}")).ToList();
        try
        {
            await using (var services = await TestServices.BuildAsync(database.ConnectionString, settings))
            {
                var bytes = Samples.SampleEml;
                await services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(bytes, bytes.Length, "test"), Ct);
            }
            await smtp.WaitForMessagesAsync(subscribers, TimeSpan.FromMinutes(4), Ct);
            await Eventually.WaitAsync(() => ledger.SettledAsync(1, subscribers, Ct), TimeSpan.FromMinutes(1), "the ledger to settle", Ct);
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
        var processes = (long)(await ledger.ScalarAsync("select count(distinct claimed_by) from deliveries where status = 'sent'", Ct))!;
        Assert.True(processes >= 2, $"only {processes} process(es) sent digests");
    }
}
