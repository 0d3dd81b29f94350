using Xunit;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Hosting;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Digests;

/// <summary>From the inbox to the recipients' mailboxes: real Dovecot, PostgreSQL, Hangfire and an SMTP server.</summary>
public sealed class DigestDeliveryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Poll_SampleWithSeveralSubscribers_EachGetsExactlyTheirPapersOnce()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        var account = DovecotAccount.Create();
        var settings = SmtpSettings(smtp);
        foreach (var (key, value) in TestServices.ImapSettings(account))
        {
            settings[key] = value;
        }
        await using var app = await TestWebApp.StartAsync(database.ConnectionString, settings, ProcessRole.All, Ct);
        var subscribers = app.Services.GetRequiredService<SubscriberStore>();
        var wanted = new Dictionary<string, Func<string, string, bool>>
        {
            ["diffusion@lab.example"] = (t, a) => Has(t, a, @"\bdiffusions?\b"),
            ["ensembles@lab.example"] = (t, a) => Has(t, a, @"\bensembles?\b") && !Has(t, a, @"\bmedical\b"),
            ["lowrank@lab.example"] = (t, a) => Has(t, a, @"\blow[\s-]+rank\b") || Has(t, a, @"\bloras?\b"),
        };
        await subscribers.UpsertAsync("diffusion@lab.example", "diffusion", SubscriberStatus.Active, DigestFormat.Html, Ct);
        await subscribers.UpsertAsync("ensembles@lab.example", "ensemble -medical", SubscriberStatus.Active, DigestFormat.Html, Ct);
        await subscribers.UpsertAsync("lowrank@lab.example", "\"low-rank\" OR LoRA", SubscriberStatus.Active, DigestFormat.Html, Ct);
        await subscribers.UpsertAsync("nothing@lab.example", "zebra giraffe", SubscriberStatus.Active, DigestFormat.Html, Ct);
        await subscribers.UpsertAsync("paused@lab.example", "diffusion", SubscriberStatus.Paused, DigestFormat.Html, Ct);
        await subscribers.UpsertAsync("gone@lab.example", "diffusion", SubscriberStatus.Unsubscribed, DigestFormat.Html, Ct);
        await account.AppendAsync("INBOX", Samples.SampleEml, Ct);

        // No explicit poll: the worker's IDLE watcher sees the new mail and starts one.
        await smtp.WaitForMessagesAsync(3, Eventually.DefaultTimeout, Ct);
        var ledger = new Ledger(database.ConnectionString);
        var issueId = (long)(await ledger.ScalarAsync("select id from issues", Ct))!;
        await Eventually.WaitAsync(() => ledger.SettledAsync(issueId, expectedRows: 4, Ct), Eventually.DefaultTimeout, "the ledger to settle", Ct);

        Assert.Equal(1L, await ledger.ScalarAsync("select count(*) from issues", Ct));
        Assert.Equal(3, smtp.Received.Count);
        var papers = Samples.SamplePapers();
        foreach (var (email, selects) in wanted)
        {
            var digest = Assert.Single(smtp.Messages, m => m.To.Mailboxes.Single().Address == email);
            var expected = papers.Where(p => selects(p.Title, p.Abstract)).Select(p => DigestReader.Normalized(p.Title)).ToHashSet();
            Assert.NotEmpty(expected);
            var titles = DigestReader.Titles(digest);
            Assert.Equal(expected.Order(StringComparer.Ordinal), titles.Order(StringComparer.Ordinal));
            // Score order: every paper whose title matches comes before every paper matched in its abstract only.
            var titleHits = titles.Select(t => papers.First(p => DigestReader.Normalized(p.Title) == t))
                .Select(p => selects(p.Title, "")).ToList();
            Assert.Equal(titleHits.OrderByDescending(hit => hit), titleHits);

            Assert.StartsWith("<http://localhost/unsubscribe/", digest.Headers["List-Unsubscribe"], StringComparison.Ordinal);
            Assert.Equal("List-Unsubscribe=One-Click", digest.Headers["List-Unsubscribe-Post"]);
            Assert.Equal("<papers.lab.test.example>", digest.Headers["List-Id"]);
            Assert.Equal("auto-generated", digest.Headers["Auto-Submitted"]);
            Assert.Matches($@"^digest\.{issueId}\.\d+\.1@lab\.test\.example$", digest.MessageId);
            Assert.Contains(digest.BodyParts, p => p.ContentType.IsMimeType("text", "html"));
        }
        var statuses = await ledger.StatusByEmailAsync(issueId, 1, Ct);
        Assert.Equal("skipped", statuses["nothing@lab.example"]);
        Assert.False(statuses.ContainsKey("paused@lab.example"));
        Assert.False(statuses.ContainsKey("gone@lab.example"));
        Assert.All(wanted.Keys, email => Assert.Equal("sent", statuses[email]));
    }

    [Fact]
    public async Task Send_ServerAnswers451ToFirstAttempts_EveryDigestArrivesOnce()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        // More refusals than the in-batch retries absorb: one digest is deferred and comes back on its own.
        smtp.FailNextAttempts(6, 451);
        await using var app = await TestWebApp.StartAsync(database.ConnectionString, SmtpSettings(smtp), ProcessRole.All, Ct);
        var emails = Enumerable.Range(1, 4).Select(i => $"reader{i}@lab.example").ToList();
        foreach (var email in emails)
        {
            await app.Services.GetRequiredService<SubscriberStore>().UpsertAsync(email, "diffusion", SubscriberStatus.Active, DigestFormat.Html, Ct);
        }

        var issueId = await IngestSampleAsync(app);
        var ledger = new Ledger(database.ConnectionString);
        await smtp.WaitForMessagesAsync(emails.Count, Eventually.DefaultTimeout, Ct);
        await Eventually.WaitAsync(() => ledger.SettledAsync(issueId, emails.Count, Ct), Eventually.DefaultTimeout, "the ledger to settle", Ct);

        Assert.Equal(emails.Order(), smtp.Received.Select(m => m.Recipients.Single()).Order());
        Assert.All((await ledger.StatusByEmailAsync(issueId, 1, Ct)).Values, status => Assert.Equal("sent", status));
        Assert.True((int)(await ledger.ScalarAsync("select max(attempts) from deliveries", Ct))! >= 2,
            "at least one digest was deferred and sent on a later attempt");
    }

    [Fact]
    public async Task Send_ServerRejectsOneRecipientWith550_ThatRowFailsAndTheRestAreSent()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        smtp.RejectRecipient("nobody@lab.example", 550, "5.1.1 No such user here");
        await using var app = await TestWebApp.StartAsync(database.ConnectionString, SmtpSettings(smtp), ProcessRole.All, Ct);
        var store = app.Services.GetRequiredService<SubscriberStore>();
        await store.UpsertAsync("first@lab.example", "", SubscriberStatus.Active, DigestFormat.Html, Ct);
        await store.UpsertAsync("nobody@lab.example", "", SubscriberStatus.Active, DigestFormat.Html, Ct);
        await store.UpsertAsync("last@lab.example", "", SubscriberStatus.Active, DigestFormat.Text, Ct);

        var issueId = await IngestSampleAsync(app);
        var ledger = new Ledger(database.ConnectionString);
        await smtp.WaitForMessagesAsync(2, Eventually.DefaultTimeout, Ct);
        await Eventually.WaitAsync(() => ledger.SettledAsync(issueId, 3, Ct), Eventually.DefaultTimeout, "the ledger to settle", Ct);

        var statuses = await ledger.StatusByEmailAsync(issueId, 1, Ct);
        Assert.Equal("failed", statuses["nobody@lab.example"]);
        Assert.Equal("sent", statuses["first@lab.example"]);
        Assert.Equal("sent", statuses["last@lab.example"]);
        Assert.Equal("bounced", await ledger.ScalarAsync("select status from subscribers where email = 'nobody@lab.example'", Ct));
        Assert.Contains("550", (string)(await ledger.ScalarAsync("select smtp_reply from deliveries where status = 'failed'", Ct))!, StringComparison.Ordinal);
        Assert.Equal(["first@lab.example", "last@lab.example"], smtp.Received.Select(m => m.Recipients.Single()).Order());
        // Every paper of the sample for an empty interest line, but within Gmail's 102 KB.
        Assert.All(smtp.Received, m => Assert.True(m.Raw.Length < 102_000, $"{m.Raw.Length} bytes"));
        var textOnly = smtp.Messages.Single(m => m.To.Mailboxes.Single().Address == "last@lab.example");
        Assert.True(textOnly.Body!.ContentType.IsMimeType("text", "plain"), "a text-format subscriber gets only the text part");
    }

    [Fact]
    public async Task Send_SmtpServerDown_DigestsDeferredForLaterNotLost()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var app = await TestWebApp.StartAsync(database.ConnectionString, new Dictionary<string, string?>
        {
            ["Newsletter:Smtp:Host"] = "127.0.0.1",
            ["Newsletter:Smtp:Port"] = LoopbackPort.Free().ToString(System.Globalization.CultureInfo.InvariantCulture), // nothing listens
            ["Newsletter:Smtp:Security"] = "None",
            ["Newsletter:Delivery:FirstRetryDelay"] = "01:00:00",
        }, ProcessRole.All, Ct);
        var store = app.Services.GetRequiredService<SubscriberStore>();
        for (var i = 1; i <= 5; i++)
        {
            await store.UpsertAsync($"reader{i}@lab.example", "diffusion", SubscriberStatus.Active, DigestFormat.Html, Ct);
        }

        var issueId = await IngestSampleAsync(app);
        var ledger = new Ledger(database.ConnectionString);
        await Eventually.WaitAsync(async () => (await ledger.StatusByEmailAsync(issueId, 1, Ct)).Values.Count(s => s == "deferred") == 5,
            Eventually.DefaultTimeout, "every digest to be deferred", Ct);

        Assert.Equal(0L, await ledger.ScalarAsync("select count(*) from deliveries where status = 'sent'", Ct));
        Assert.Equal(5L, await ledger.ScalarAsync("select count(*) from deliveries where next_attempt_at > now() + interval '30 minutes'", Ct));
        Assert.Equal(0L, await ledger.ScalarAsync(
            "select count(*) from deliveries where smtp_reply not like 'connection failed%' and smtp_reply <> 'SMTP server unreachable'", Ct));
    }

    internal static Dictionary<string, string?> SmtpSettings(SmtpCapture smtp) => new()
    {
        ["Newsletter:Smtp:Host"] = smtp.Host,
        ["Newsletter:Smtp:Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Newsletter:Smtp:Security"] = "None",
        ["Newsletter:Smtp:Connections"] = "2",
    };

    private static async Task<long> IngestSampleAsync(TestWebApp app)
    {
        var bytes = Samples.SampleEml;
        var outcome = await app.Services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(bytes, bytes.Length, "test"), Ct);
        Assert.Equal(IngestStatus.Ingested, outcome.Status);
        return outcome.IssueId!.Value;
    }

    private static bool Has(string title, string summary, string pattern) =>
        Regex.IsMatch(title, pattern, RegexOptions.IgnoreCase) || Regex.IsMatch(summary, pattern, RegexOptions.IgnoreCase);
}
