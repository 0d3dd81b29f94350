using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Admin;
using Newsletter.IntegrationTests.Web;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Bounces;

/// <summary>
/// Delivery reports and auto-replies are kept raw for <c>Newsletter:Inbox:ReportRetention</c>, then deleted; what they
/// recorded (the bounces that stop a reader, the admin's and the reader's view of them) stays. Real Dovecot and PostgreSQL.
/// </summary>
public sealed class ReportRetentionTests
{
    [Fact]
    public async Task RunAsync_ReportsAndAutoRepliesPastTheRetention_DeletedWhileTheBouncesTheyRecordedStillCount()
    {
        var account = DovecotAccount.Create();
        await using var app = await TestApp.StartWithSmtpAsync();
        var (subscriber, email, digests) = await BounceTests.ReaderSentThreeDigestsAsync(app);
        await using var worker = await TestApp.BuildAsync(imap: account, connectionString: app.ConnectionString);
        var poller = worker.Services.GetRequiredService<InboxPoller>();
        // Two of the three permanent failures that stop this reader, a delay warning, a report about none of our digests
        // and an auto-reply, all received 91 days ago; and a delay warning received yesterday.
        await account.AppendAsync("INBOX", BounceTests.Report("gmail-over-quota.eml", digests[0], email, 1), Ct);
        await account.AppendAsync("INBOX", BounceTests.Report("gmail-over-quota.eml", digests[1], email, 2), Ct);
        await account.AppendAsync("INBOX", BounceTests.Report("postfix-delayed.eml", digests[0], email, 3), Ct);
        await account.AppendAsync("INBOX", BounceTests.Sample("postfix-delayed.eml"), Ct);
        await account.AppendAsync("INBOX", BounceTests.Sample("gmail-vacation.eml"), Ct);
        Assert.Equal(new PollResult(0, 0, 0, 0, Reports: 4, AutoReplies: 1), await poller.PollAsync(Ct));
        await worker.ExecuteAsync("update inbound_messages set processed_at = now() - interval '91 days' where status in ('report', 'auto_reply')");
        await account.AppendAsync("INBOX", BounceTests.Report("postfix-delayed.eml", digests[1], email, 4), Ct);
        Assert.Equal(new PollResult(0, 0, 0, 0, Reports: 1), await poller.PollAsync(Ct));
        await worker.ExecuteAsync("update inbound_messages set processed_at = now() - interval '1 day' where processed_at > now() - interval '1 hour' and status = 'report'");

        var deleted = await worker.Services.GetRequiredService<ReportRetentionJob>().RunAsync(Ct);

        Assert.Equal(5, deleted);
        Assert.Equal(["ingested", "ingested", "ingested", "report"], await worker.RowsAsync("select status from inbound_messages order by status"));
        Assert.Equal(["permanent", "permanent", "transient", "transient"], await worker.RowsAsync("select kind from bounces order by kind"));
        Assert.Equal(2L, await worker.ScalarAsync<long>("select count(*) from deliveries where status = 'failed'"));
        Assert.Equal("active", await WebTestData.StatusOfAsync(worker, subscriber.Id));

        // The failures whose reports are gone still count: the third digest's stops the reader.
        await account.AppendAsync("INBOX", BounceTests.Report("gmail-over-quota.eml", digests[2], email, 5), Ct);
        Assert.Equal(new PollResult(0, 0, 0, 0, Reports: 1), await poller.PollAsync(Ct));
        Assert.Equal("bounced", await WebTestData.StatusOfAsync(worker, subscriber.Id));
        // The admin's page and the reader's data export still list every bounce.
        using var admin = await AdminTestKit.SignedInClientAsync(app);
        var page = await admin.GetStringAsync($"admin/subscribers/{subscriber.Id}", Ct);
        Assert.Equal((3, 2), (page.Split("<td>permanent</td>").Length - 1, page.Split("<td>temporary</td>").Length - 1));
        using var api = AdminTestKit.ApiClient(app);
        using var export = await api.GetAsync($"admin/api/subscribers/{subscriber.Id}/personal-data", Ct);
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal(5, (await export.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("bounces").GetArrayLength());
    }

    [Fact]
    public async Task Ingest_AReportFetchedAgainAfterRetentionDeletedIt_CountsOnceAndTheReactivatedReaderStaysActive()
    {
        // The old report made a new bounce row: the reader the admin had re-activated was bounced again by it.
        await using var app = await TestApp.BuildAsync(settings: new Dictionary<string, string?> { ["Newsletter:Mail:BounceDomain"] = "bounces.lab.test.example" });
        var deliveryId = (await FannedOutGeneration.CreateAsync(app, subscribers: 1))[0];
        var subscriberId = await app.ScalarAsync<long>("select subscriber_id from deliveries where id = @id", ("id", deliveryId));
        var returnPath = (await app.Services.GetRequiredService<Newsletter.Digests.ReturnPaths>().ForAsync(deliveryId, Ct))!.Address;
        var report = BounceTests.Sample("postfix-unknown-user.eml", ("bounces+abc123@bounces.lab.test.example", returnPath));
        var ingestor = app.Services.GetRequiredService<MessageIngestor>();
        Assert.Equal(IngestStatus.Report, (await ingestor.IngestAsync(new InboundMail(report, report.Length, "test"), Ct)).Status);
        Assert.Equal("bounced", await WebTestData.StatusOfAsync(app, subscriberId));
        // The admin re-activates the reader; retention deletes the report; the mailbox hands the same report over again.
        Assert.True(await app.Services.GetRequiredService<Newsletter.Bounces.BounceStore>().ReactivateAsync(subscriberId, Ct));
        await app.ExecuteAsync("update inbound_messages set processed_at = now() - interval '91 days' where status = 'report'");
        Assert.Equal(1, await app.Services.GetRequiredService<ReportRetentionJob>().RunAsync(Ct));

        var again = await ingestor.IngestAsync(new InboundMail(report, report.Length, "test"), Ct);

        Assert.Equal(IngestStatus.Report, again.Status);
        Assert.Contains("already recorded", again.Reason, StringComparison.Ordinal);
        Assert.Equal("active", await WebTestData.StatusOfAsync(app, subscriberId));
        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from bounces"));
    }
}
