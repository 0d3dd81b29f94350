using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Hosting;
using Newsletter.Mail;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Digests;

/// <summary>From the inbox to the recipients' mailboxes: real Dovecot, PostgreSQL, Hangfire and an SMTP server.</summary>
public sealed class DigestDeliveryTests
{
    [Fact]
    public async Task Poll_SampleWithSeveralSubscribers_EachGetsExactlyTheirPapersOnce()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        var account = DovecotAccount.Create();
        await using var app = await TestApp.StartAsync(smtp: smtp, imap: account, role: ProcessRole.All);
        var wanted = new Dictionary<string, Func<string, string, bool>>
        {
            ["diffusion@lab.example"] = (t, a) => Has(t, a, @"\bdiffusions?\b"),
            ["ensembles@lab.example"] = (t, a) => Has(t, a, @"\bensembles?\b") && !Has(t, a, @"\bmedical\b"),
            ["lowrank@lab.example"] = (t, a) => Has(t, a, @"\blow[\s-]+rank\b") || Has(t, a, @"\bloras?\b"),
        };
        await app.AddSubscriberAsync("diffusion@lab.example", "diffusion");
        await app.AddSubscriberAsync("ensembles@lab.example", "ensemble -medical");
        await app.AddSubscriberAsync("lowrank@lab.example", "\"low-rank\" OR LoRA");
        await app.AddSubscriberAsync("nothing@lab.example", "zebra giraffe");
        // Without "Also for you", a reader whom no keyword matches gets no digest.
        await app.ExecuteAsync("update subscribers set suggestions = 0 where email = 'nothing@lab.example'");
        await app.AddSubscriberAsync("paused@lab.example", "diffusion", SubscriberStatus.Paused);
        await app.AddSubscriberAsync("gone@lab.example", "diffusion", SubscriberStatus.Unsubscribed);
        await account.AppendAsync("INBOX", Samples.SampleEml, Ct);

        // No explicit poll: the worker's IDLE watcher sees the new mail and starts one.
        await smtp.WaitForMessagesAsync(3, Eventually.DefaultTimeout, Ct);
        var issueId = await app.ScalarAsync<long>("select id from issues");
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(issueId, expectedRows: 4), "the ledger to settle");

        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from issues"));
        Assert.Equal(3, smtp.Received.Count);
        var papers = Samples.SamplePapers();
        foreach (var (email, selects) in wanted)
        {
            var digest = Assert.Single(smtp.Messages, m => m.To.Mailboxes.Single().Address == email);
            var expected = papers.Where(p => selects(p.Title, p.Abstract)).Select(p => DigestReader.Normalized(p.Title)).ToHashSet();
            Assert.NotEmpty(expected);
            var titles = DigestReader.Titles(digest);
            Assert.Equal(expected.Order(StringComparer.Ordinal), titles.Order(StringComparer.Ordinal));
            // Before any vote every keyword match is in the mail; suggestions come after them and repeat none.
            Assert.Empty(DigestReader.Suggestions(digest).Intersect(titles));

            Assert.StartsWith("<http://localhost/unsubscribe/", digest.Headers["List-Unsubscribe"], StringComparison.Ordinal);
            Assert.Equal("List-Unsubscribe=One-Click", digest.Headers["List-Unsubscribe-Post"]);
            Assert.Equal("<papers.lab.test.example>", digest.Headers["List-Id"]);
            Assert.Equal("auto-generated", digest.Headers["Auto-Submitted"]);
            Assert.Matches($@"^digest\.{issueId}\.\d+\.1@lab\.test\.example$", digest.MessageId);
            Assert.Contains(digest.BodyParts, p => p.ContentType.IsMimeType("text", "html"));
        }
        var statuses = await app.Ledger.StatusByEmailAsync(issueId, 1);
        Assert.Equal("skipped", statuses["nothing@lab.example"]);
        Assert.False(statuses.ContainsKey("paused@lab.example"));
        Assert.False(statuses.ContainsKey("gone@lab.example"));
        Assert.All(wanted.Keys, email => Assert.Equal("sent", statuses[email]));
        // The worker rendered them from templates its compiler child compiled: it never compiled one itself.
        Assert.Equal(0, app.Services.GetRequiredService<EmailTemplates>().CompiledHere);
    }

    [Fact]
    public async Task Ingest_ListingForwardedToTheInbox_DigestHeadedByTheListingNotByTheForward()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        await app.AddSubscriberAsync("reader@lab.example", "diffusion");
        // Someone forwarded the day's listing to the inbox: their mail client put "Fwd:" before its subject.
        var listing = Samples.Listing(new DateOnly(2025, 3, 11), Samples.SamplePapersSaying("diffusion"));
        listing.Subject = "Fwd: FW: Trending papers - Mar 11";
        var body = Assert.IsType<MimeKit.TextPart>(listing.Body);
        body.Text = "---------- Forwarded message ---------\nFrom: Hugging Face <papers@notifications.huggingface.co>\n"
            + "Date: Tue, Mar 11, 2025 at 2:02 PM\nSubject: Trending papers - Mar 11\nTo: <papers-inbox@lab.example.org>\n\n" + body.Text;
        var bytes = Samples.ToBytes(listing);
        var outcome = await app.Services.GetRequiredService<Newsletter.Inbox.MessageIngestor>().IngestAsync(new Newsletter.Inbox.InboundMail(bytes, bytes.Length, "test"), Ct);
        Assert.Equal(Newsletter.Inbox.IngestStatus.Ingested, outcome.Status);

        var digest = (await app.Smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0].Parse();

        Assert.Equal("Trending papers - Mar 11", digest.TextBody!.ReplaceLineEndings("\n").Split('\n')[0]);
        Assert.Contains(">Trending papers - Mar 11</h1>", digest.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_ServerAnswers451ToFirstAttempts_EveryDigestArrivesOnce()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        // More refusals than the in-batch retries absorb: one digest is deferred and comes back on its own.
        smtp.FailNextAttempts(6, 451);
        await using var app = await TestApp.StartAsync(smtp: smtp, role: ProcessRole.All);
        var emails = Enumerable.Range(1, 4).Select(i => $"reader{i}@lab.example").ToList();
        foreach (var email in emails)
        {
            await app.AddSubscriberAsync(email, "diffusion");
        }

        var issueId = await app.IngestSamplePapersSayingAsync("diffusion");
        await smtp.WaitForMessagesAsync(emails.Count, Eventually.DefaultTimeout, Ct);
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(issueId, emails.Count), "the ledger to settle");

        Assert.Equal(emails.Order(), smtp.Received.Select(m => m.Recipients.Single()).Order());
        Assert.All((await app.Ledger.StatusByEmailAsync(issueId, 1)).Values, status => Assert.Equal("sent", status));
        Assert.True(await app.ScalarAsync<int>("select max(attempts) from deliveries") >= 2,
            "at least one digest was deferred and sent on a later attempt");
    }

    [Fact]
    public async Task Send_ServerRejectsOneRecipientWith550_ThatRowFailsAndTheRestAreSent()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        smtp.RejectRecipient("nobody@lab.example", 550, "5.1.1 No such user here");
        await using var app = await TestApp.StartAsync(smtp: smtp, role: ProcessRole.All);
        await app.AddSubscriberAsync("first@lab.example");
        await app.AddSubscriberAsync("nobody@lab.example");
        await app.AddSubscriberAsync("last@lab.example", format: DigestFormat.Text);

        var issueId = await app.IngestSampleAsync();
        await smtp.WaitForMessagesAsync(2, Eventually.DefaultTimeout, Ct);
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(issueId, 3), "the ledger to settle");

        var statuses = await app.Ledger.StatusByEmailAsync(issueId, 1);
        Assert.Equal("failed", statuses["nobody@lab.example"]);
        Assert.Equal("sent", statuses["first@lab.example"]);
        Assert.Equal("sent", statuses["last@lab.example"]);
        Assert.Equal("bounced", await app.ScalarAsync<string>("select status from subscribers where email = 'nobody@lab.example'"));
        Assert.Contains("550", await app.ScalarAsync<string>("select smtp_reply from deliveries where status = 'failed'"), StringComparison.Ordinal);
        Assert.Equal(["first@lab.example", "last@lab.example"], smtp.Received.Select(m => m.Recipients.Single()).Order());
        // Every paper of the sample for an empty interest line, but within Gmail's 102 KB.
        Assert.All(smtp.Received, m => Assert.True(m.Raw.Length < 102_000, $"{m.Raw.Length} bytes"));
        var textOnly = smtp.Messages.Single(m => m.To.Mailboxes.Single().Address == "last@lab.example");
        Assert.True(textOnly.Body!.ContentType.IsMimeType("text", "plain"), "a text-format subscriber gets only the text part");
    }

    [Fact]
    public async Task Send_SmtpServerDown_DigestsDeferredForLaterNotLost()
    {
        await using var app = await TestApp.StartAsync(role: ProcessRole.All, settings: new Dictionary<string, string?>
        {
            ["Newsletter:Smtp:Host"] = "127.0.0.1",
            ["Newsletter:Smtp:Port"] = LoopbackPort.Free().ToString(System.Globalization.CultureInfo.InvariantCulture), // nothing listens
            ["Newsletter:Smtp:Security"] = "None",
            ["Newsletter:Delivery:FirstRetryDelay"] = "01:00:00",
        });
        for (var i = 1; i <= 5; i++)
        {
            await app.AddSubscriberAsync($"reader{i}@lab.example", "diffusion");
        }

        var issueId = await app.IngestSamplePapersSayingAsync("diffusion");
        await Eventually.WaitAsync(async () => (await app.Ledger.StatusByEmailAsync(issueId, 1)).Values.Count(s => s == "deferred") == 5,
            "every digest to be deferred");

        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from deliveries where status = 'sent'"));
        Assert.Equal(5L, await app.ScalarAsync<long>("select count(*) from deliveries where next_attempt_at > now() + interval '30 minutes'"));
        Assert.Equal(0L, await app.ScalarAsync<long>(
            "select count(*) from deliveries where smtp_reply not like 'connection failed%' and smtp_reply <> 'SMTP server unreachable'"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("421 4.3.2 Too busy, try later\r\n")]
    [InlineData("554 5.7.1 No service for you\r\n")]
    public async Task Send_SmtpServerSilentOrRefusingAtConnect_DigestsDeferredForLaterNotLeftPending(string? greeting)
    {
        // A server that takes the connection, then says nothing (a firewall, a hung MTA) or refuses at its greeting.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var connections = new List<System.Net.Sockets.TcpClient>();
        var serving = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var connection = await listener.AcceptTcpClientAsync(stop.Token);
                connections.Add(connection);
                if (greeting is not null)
                {
                    await connection.GetStream().WriteAsync(System.Text.Encoding.ASCII.GetBytes(greeting), stop.Token);
                }
            }
        }, Ct);
        await using var app = await TestApp.StartAsync(role: ProcessRole.All, settings: new Dictionary<string, string?>
        {
            ["Newsletter:Smtp:Host"] = "127.0.0.1",
            ["Newsletter:Smtp:Port"] = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Newsletter:Smtp:Security"] = "None",
            ["Newsletter:Smtp:Timeout"] = "00:00:01",
            ["Newsletter:Delivery:FirstRetryDelay"] = "01:00:00",
        });
        for (var i = 1; i <= 4; i++)
        {
            await app.AddSubscriberAsync($"reader{i}@lab.example", "diffusion");
        }

        var issueId = await app.IngestSamplePapersSayingAsync("diffusion");
        await Eventually.WaitAsync(async () => (await app.Ledger.StatusByEmailAsync(issueId, 1)).Values.Count(s => s == "deferred") == 4,
            "every digest to be deferred");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving);
        connections.ForEach(c => c.Dispose());

        Assert.Equal(4L, await app.ScalarAsync<long>("select count(*) from deliveries where next_attempt_at > now() + interval '30 minutes'"));
        Assert.Equal(0L, await app.ScalarAsync<long>(
            "select count(*) from deliveries where smtp_reply not like 'connection failed%' and smtp_reply <> 'SMTP server unreachable'"));
    }

    private static bool Has(string title, string summary, string pattern) =>
        Regex.IsMatch(title, pattern, RegexOptions.IgnoreCase) || Regex.IsMatch(summary, pattern, RegexOptions.IgnoreCase);
}
