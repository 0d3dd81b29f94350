using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Newsletter.Digests;
using Newsletter.Hosting;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Admin;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Newsletter.IntegrationTests.Web;
using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.IntegrationTests.Bounces;

/// <summary>
/// Delivery reports and auto-replies read from a real Dovecot mailbox into a real PostgreSQL: the genuine report of a real
/// Postfix, and samples in the formats of Exchange Online and Gmail. What a report changes is what the admin and the
/// subscriber notice: the delivery failed, the subscriber bounced, the messages sorted into Processed.
/// </summary>
public sealed class BounceTests
{
    private const string SampleMessageId = "digest.1.2.1@lab.test.example";
    internal const string SampleRecipient = "reader@example.org";
    private const string SampleDigestHeader = "X-Newsletter-Digest: 1/2/1";
    private const string SampleUnsubscribe = "<https://papers.lab.test.example/unsubscribe/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA>";

    [Fact]
    public async Task PostfixReport_DigestToAnUnknownUser_SubscriberBouncedAndTheAdminCanReactivate()
    {
        var account = DovecotAccount.Create();
        await using var app = await StartSendingThroughPostfixAsync();
        var email = $"gone-{Guid.NewGuid():N}@{TestEnvironment.PostfixUnknownUserDomain}";
        var subscriber = await app.AddSubscriberAsync(email, "diffusion", SubscriberStatus.Active);
        var issueId = await app.IngestSamplePapersSayingAsync("diffusion");
        var ledger = app.Ledger;
        await Eventually.WaitAsync(() => ledger.SettledAsync(issueId, 1), Eventually.DefaultTimeout, "the digest to reach Postfix", Ct);
        var sentBefore = await ledger.StatusByEmailAsync(issueId, 1);
        var report = await PostfixReports.WaitForAsync(email, Eventually.DefaultTimeout, Ct);
        await account.AppendAsync("INBOX", report, Ct);
        await using var worker = await TestApp.BuildAsync(imap: account, connectionString: app.ConnectionString);

        var result = await worker.Services.GetRequiredService<InboxPoller>().PollAsync(Ct);

        Assert.Equal("sent", sentBefore[email]);
        Assert.StartsWith("bounces+", MimeMessage.Load(new MemoryStream(report), Ct).To.Mailboxes.Single().Address, StringComparison.Ordinal);
        Assert.Equal(new PollResult(0, 0, 0, 0, Reports: 1), result);
        Assert.Equal("bounced", await WebTestData.StatusOfAsync(worker, subscriber.Id));
        Assert.Equal("failed", (await ledger.StatusByEmailAsync(issueId, 1))[email]);
        Assert.Contains("5.1.1", await Text(worker, $"select error from deliveries where subscriber_id = {subscriber.Id}"), StringComparison.Ordinal);
        Assert.Equal("return_path", await Text(worker, "select matched_by from bounces"));
        Assert.Equal("report", await Text(worker, "select status from inbound_messages order by id desc limit 1"));
        Assert.Empty(await account.ListUidsAsync("INBOX", Ct));
        Assert.Single(await account.ListUidsAsync("Processed", Ct));

        using var admin = await AdminTestKit.SignedInClientAsync(app);
        var issuePage = await admin.GetStringAsync($"admin/issues/{issueId}", Ct);
        var subscriberPage = await admin.GetStringAsync($"admin/subscribers/{subscriber.Id}", Ct);
        Assert.Contains(email, issuePage, StringComparison.Ordinal);
        Assert.Contains("5.1.1", issuePage, StringComparison.Ordinal);
        Assert.Contains("Re-activate", subscriberPage, StringComparison.Ordinal);
        using var reactivate = await admin.PostAsync($"admin/subscribers/{subscriber.Id}?handler=reactivate", new FormUrlEncodedContent(
            [new("__RequestVerificationToken", await Antiforgery.TokenAsync(admin, $"admin/subscribers/{subscriber.Id}"))]), Ct);
        Assert.Equal(HttpStatusCode.Redirect, reactivate.StatusCode);
        Assert.Equal("active", await WebTestData.StatusOfAsync(worker, subscriber.Id));
        Assert.Equal(0L, await worker.ScalarAsync<long>("select count(*) from bounces where cleared_at is null"));
    }

    [Fact]
    public async Task PostfixReport_ForADigestWhoseSendWasNeverRecorded_TheRowFailsSoTheResumedBatchDoesNotSendItAgain()
    {
        var account = DovecotAccount.Create();
        await using var app = await StartSendingThroughPostfixAsync();
        var email = $"gone-{Guid.NewGuid():N}@{TestEnvironment.PostfixUnknownUserDomain}";
        await app.AddSubscriberAsync(email, "diffusion", SubscriberStatus.Active);
        var issueId = await app.IngestSamplePapersSayingAsync("diffusion");
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(issueId, 1), Eventually.DefaultTimeout, "the digest to reach Postfix", Ct);
        var report = await PostfixReports.WaitForAsync(email, Eventually.DefaultTimeout, Ct);
        // The worker died after Postfix took the digest and before it wrote the outcome: the row still waits to be sent.
        await app.ExecuteAsync("update deliveries set status = 'pending', sent_at = null, smtp_reply = null");
        await account.AppendAsync("INBOX", report, Ct);
        await using var worker = await TestApp.BuildAsync(imap: account, connectionString: app.ConnectionString);

        var result = await worker.Services.GetRequiredService<InboxPoller>().PollAsync(Ct);

        Assert.Equal(new PollResult(0, 0, 0, 0, Reports: 1), result);
        Assert.Equal("failed", (await app.Ledger.StatusByEmailAsync(issueId, 1))[email]);
        Assert.Contains("5.1.1", await Text(worker, "select error from deliveries"), StringComparison.Ordinal);
    }

    /// <summary>The whole application, its digests sent through the real Postfix, whose reports come back to its bounce domain.</summary>
    private static async Task<TestApp> StartSendingThroughPostfixAsync()
    {
        var smtp = TestEnvironment.PostfixSmtp.Split(':');
        return await TestApp.StartAsync(role: ProcessRole.All, settings: new Dictionary<string, string?>
        {
            ["Newsletter:Smtp:Host"] = smtp[0],
            ["Newsletter:Smtp:Port"] = smtp[1],
            ["Newsletter:Smtp:Security"] = "None",
            ["Newsletter:Mail:BounceDomain"] = TestEnvironment.PostfixBounceDomain,
        });
    }

    [Fact]
    public async Task Poll_ListingReportAndAutoReplyTogether_EachGoesWhereItBelongs()
    {
        var account = DovecotAccount.Create();
        await using var app = await TestApp.StartWithSmtpAsync(settings: new Dictionary<string, string?> { ["Newsletter:Mail:BounceDomain"] = "bounces.lab.test.example" });
        var email = $"reader-{Guid.NewGuid():N}@example.org";
        var subscriber = await app.AddSubscriberAsync(email, "diffusion", SubscriberStatus.Active);
        await app.IngestSamplePapersSayingAsync("diffusion");
        var digest = (await app.Smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0];
        // An Exchange Online report of an unknown recipient, sent where reports go: the digest's envelope sender.
        await account.AppendAsync("INBOX", Samples.Listing(new DateOnly(2025, 3, 12), Samples.SamplePapers().Skip(5).Take(8)), Ct);
        await account.AppendAsync("INBOX", Sample("exchange-online-ndr.eml", ("<digest@lab.test.example>", $"<{digest.From}>"), (SampleRecipient, email)), Ct);
        await account.AppendAsync("INBOX", Sample("exchange-automatic-reply.eml", (SampleRecipient, email)), Ct);
        await using var worker = await TestApp.BuildAsync(imap: account, connectionString: app.ConnectionString);

        var result = await worker.Services.GetRequiredService<InboxPoller>().PollAsync(Ct);

        Assert.Matches("^bounces\\+[0-9a-f]{50}@bounces\\.lab\\.test\\.example$", digest.From);
        Assert.Equal(new PollResult(1, 0, 0, 0, Reports: 1, AutoReplies: 1), result);
        Assert.Equal(["auto_reply", "ingested", "ingested", "report"],
            await worker.RowsAsync("select status from inbound_messages order by status"));
        Assert.Equal(2L, await worker.ScalarAsync<long>("select count(*) from issues"));
        Assert.Equal("return_path", await Text(worker, "select matched_by from bounces"));
        Assert.Equal("bounced", await WebTestData.StatusOfAsync(worker, subscriber.Id));
        Assert.Contains("an automatic reply", await Text(worker, "select reason from inbound_messages where status = 'auto_reply'"), StringComparison.Ordinal);
        Assert.Empty(await account.ListUidsAsync("INBOX", Ct));
        Assert.Equal(3, (await account.ListUidsAsync("Processed", Ct)).Count);
        Assert.False(await account.FolderExistsAsync("Quarantine", Ct));
    }

    [Fact]
    public async Task AutoReplies_EvenFromAnAllowedSender_AreIgnoredNeverAListingOrABounce()
    {
        var account = DovecotAccount.Create();
        await using var worker = await TestApp.BuildAsync(imap: account);
        // huggingface.co is an allowed sender: only the auto-reply's marks keep it from being judged as a listing.
        await account.AppendAsync("INBOX", Sample("exchange-automatic-reply.eml", (SampleRecipient, "papers@notifications.huggingface.co")), Ct);
        await account.AppendAsync("INBOX", Sample("gmail-vacation.eml"), Ct);
        await account.AppendAsync("INBOX", Sample("x-autoreply-without-auto-submitted.eml"), Ct);
        await account.AppendAsync("INBOX", Sample("out-of-office-subject-only.eml"), Ct);

        var result = await worker.Services.GetRequiredService<InboxPoller>().PollAsync(Ct);

        Assert.Equal(new PollResult(0, 0, 0, 0, AutoReplies: 4), result);
        Assert.Equal(4L, await worker.ScalarAsync<long>("select count(*) from inbound_messages where status = 'auto_reply'"));
        Assert.Equal(0L, await worker.ScalarAsync<long>("select count(*) from issues"));
        Assert.Equal(0L, await worker.ScalarAsync<long>("select count(*) from bounces"));
        Assert.Equal(4, (await account.ListUidsAsync("Processed", Ct)).Count);
    }

    [Fact]
    public async Task GmailReport_ByTheDigestsOwnUnsubscribeLink_CountsOnce_AForgedOneNever()
    {
        var account = DovecotAccount.Create();
        // No bounce domain: digests go out from the From address, and a report names one by the headers it returns.
        await using var app = await TestApp.StartWithSmtpAsync();
        var email = $"reader-{Guid.NewGuid():N}@example.org";
        var subscriber = await app.AddSubscriberAsync(email, "diffusion", SubscriberStatus.Active);
        await app.IngestSamplePapersSayingAsync("diffusion");
        var digest = (await app.Smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0];
        var overQuota = Report("gmail-over-quota.eml", digest.Parse(), email, 1);
        // The digest's Message-ID and the subscriber's address, both guessable, without the digest's signed link: forged.
        var digestId = digest.Parse().MessageId!;
        var forged = Sample("gmail-over-quota.eml", (SampleMessageId, digestId), (SampleDigestHeader, DigestHeader(digestId)),
            (SampleRecipient, email), ("<67d0431d.050a0220.1a2b3c.4d5eGMR@mx.google.com>", "<forged@mx.example.org>"));
        await account.AppendAsync("INBOX", overQuota, Ct);
        await account.AppendAsync("INBOX", overQuota, Ct);
        await account.AppendAsync("INBOX", forged, Ct);
        await using var worker = await TestApp.BuildAsync(imap: account, connectionString: app.ConnectionString);

        var result = await worker.Services.GetRequiredService<InboxPoller>().PollAsync(Ct);

        Assert.Equal("digest@lab.test.example", digest.From);
        Assert.Equal(new PollResult(0, 1, 0, 0, Reports: 2), result);
        Assert.Equal("digest_link", await Text(worker, "select matched_by from bounces"));
        Assert.Equal("5.2.2", await Text(worker, "select status from bounces"));
        Assert.Equal("failed", await Text(worker, $"select status from deliveries where subscriber_id = {subscriber.Id}"));
        // One permanent failure other than "no such user": counted, not yet enough to stop the subscriber.
        Assert.Equal("active", await WebTestData.StatusOfAsync(worker, subscriber.Id));
        Assert.Contains("matching none of our deliveries",
            await Text(worker, "select reason from inbound_messages where message_id = 'forged@mx.example.org'"), StringComparison.Ordinal);
        Assert.Equal(3, (await account.ListUidsAsync("Processed", Ct)).Count);
    }

    [Fact]
    public async Task Reports_OtherPermanentFailures_BounceAtTheThirdDigest_TemporaryOnesNever()
    {
        var account = DovecotAccount.Create();
        await using var app = await TestApp.StartWithSmtpAsync();
        var (subscriber, email, digests) = await ReaderSentThreeDigestsAsync(app);
        await using var worker = await TestApp.BuildAsync(imap: account, connectionString: app.ConnectionString);
        var poller = worker.Services.GetRequiredService<InboxPoller>();

        // A delay warning and two over-quota reports for the first two digests: a temporary failure and two permanent ones.
        await account.AppendAsync("INBOX", Report("postfix-delayed.eml", digests[0], email, 0), Ct);
        await account.AppendAsync("INBOX", Report("gmail-over-quota.eml", digests[0], email, 1), Ct);
        await account.AppendAsync("INBOX", Report("gmail-over-quota.eml", digests[1], email, 2), Ct);
        var firstPoll = await poller.PollAsync(Ct);
        var afterTwo = await WebTestData.StatusOfAsync(worker, subscriber.Id);
        await account.AppendAsync("INBOX", Report("gmail-over-quota.eml", digests[2], email, 3), Ct);
        var secondPoll = await poller.PollAsync(Ct);

        Assert.Equal(new PollResult(0, 0, 0, 0, Reports: 3), firstPoll);
        Assert.Equal("active", afterTwo);
        Assert.Equal(new PollResult(0, 0, 0, 0, Reports: 1), secondPoll);
        Assert.Equal("bounced", await WebTestData.StatusOfAsync(worker, subscriber.Id));
        Assert.Equal(["permanent", "permanent", "permanent", "transient"],
            await worker.RowsAsync("select kind from bounces order by kind"));
    }

    [Fact]
    public async Task Poll_ReportsFolderConfigured_ReportsThereAreReadAfterTheInbox()
    {
        var account = DovecotAccount.Create();
        await using var worker = await TestApp.BuildAsync(imap: account,
            settings: new Dictionary<string, string?> { ["Newsletter:Imap:ReportsFolder"] = "Bounces" });
        await account.AppendAsync("INBOX", Samples.SampleEml, Ct);
        await account.AppendAsync("Bounces", Sample("postfix-delayed.eml"), Ct);

        var result = await worker.Services.GetRequiredService<InboxPoller>().PollAsync(Ct);

        Assert.Equal(new PollResult(1, 0, 0, 0, Reports: 1), result);
        Assert.Empty(await account.ListUidsAsync("INBOX", Ct));
        Assert.Empty(await account.ListUidsAsync("Bounces", Ct));
        Assert.Equal(2, (await account.ListUidsAsync("Processed", Ct)).Count);
        // A delay warning about a digest this database never sent: kept, and said so.
        Assert.Contains("matching none of our deliveries", await Text(worker, "select reason from inbound_messages where status = 'report'"), StringComparison.Ordinal);
    }

    /// <summary>A reader with an empty line sent the digests of three days' listings (in Message-ID order).</summary>
    internal static async Task<(Subscriber Subscriber, string Email, List<MimeMessage> Digests)> ReaderSentThreeDigestsAsync(TestApp app)
    {
        var email = $"full-{Guid.NewGuid():N}@example.org";
        var subscriber = await app.AddSubscriberAsync(email, "", SubscriberStatus.Active);
        var ingestor = app.Services.GetRequiredService<MessageIngestor>();
        for (var day = 12; day <= 14; day++)
        {
            var listing = Samples.ToBytes(Samples.Listing(new DateOnly(2025, 3, day), Samples.SamplePapers().Skip(day).Take(3)));
            Assert.Equal(IngestStatus.Ingested, (await ingestor.IngestAsync(new InboundMail(listing, listing.Length, "test"), Ct)).Status);
        }
        var digests = (await app.Smtp.WaitForMessagesAsync(3, cancellationToken: Ct)).Select(m => m.Parse()).OrderBy(m => m.MessageId, StringComparer.Ordinal).ToList();
        return (subscriber, email, digests);
    }

    /// <summary>A sample report about <paramref name="digest"/> (its headers returned) to <paramref name="email"/>, made a distinct message by <paramref name="n"/>.</summary>
    internal static byte[] Report(string file, MimeMessage digest, string email, int n) =>
        Sample(file, (SampleMessageId, digest.MessageId!), (SampleDigestHeader, DigestHeader(digest.MessageId!)), (SampleRecipient, email),
            (SampleUnsubscribe, digest.Headers[HeaderId.ListUnsubscribe]!),
            ("<67d0431d.050a0220.1a2b3c.4d5eGMR@mx.google.com>", $"<report-{n}@mx.example.net>"),
            ("<4Z3kLm1q2Fz9sWq@mx.example.net>", $"<report-{n}@mx.example.net>"));

    /// <summary>The X-Newsletter-Digest header of the digest with this Message-ID ("digest.{issue}.{subscriber}.{generation}@...").</summary>
    private static string DigestHeader(string digestId) =>
        "X-Newsletter-Digest: " + string.Join('/', digestId.Split('@')[0].Split('.').Skip(1));

    internal static byte[] Sample(string file, params (string From, string To)[] replacements)
    {
        var text = File.ReadAllText(Path.Combine(Samples.Directory, "reports", file));
        foreach (var (from, to) in replacements)
        {
            text = text.Replace(from, to, StringComparison.Ordinal);
        }
        return Encoding.UTF8.GetBytes(text);
    }

    private static async Task<string> Text(TestApp app, string sql) =>
        Convert.ToString(await app.ScalarAsync<object>(sql), CultureInfo.InvariantCulture) ?? "";
}
