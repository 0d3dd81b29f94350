using System.Text;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Xunit;

namespace Newsletter.IntegrationTests.Inbox;

/// <summary>
/// Storage taken by mail from strangers is bounded: headers and a prefix of the body, deleted after the retention.
/// Real Dovecot and PostgreSQL.
/// </summary>
public sealed class QuarantineRetentionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Poll_LargeMessageFromAStranger_StoresItsHeadersAndABoundedPrefixOfItsBody()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        var account = DovecotAccount.Create();
        var message = new MimeMessage { Subject = "Cheap papers, today only", MessageId = "flood-1@evil.example" };
        message.From.Add(new MailboxAddress("Spoofer", "spoofer@evil.example"));
        message.To.Add(new MailboxAddress("", "papers-inbox@lab.example.org"));
        message.Body = new TextPart("plain")
        {
            Text = string.Concat(Enumerable.Repeat("All the papers you could ever want.\n", 60_000)),
            ContentTransferEncoding = ContentEncoding.Base64,
        };
        await account.AppendAsync("INBOX", message, Ct);
        await using var services = await TestApp.BuildAsync(imap: account, connectionString: database.ConnectionString);

        var result = await services.Services.GetRequiredService<InboxPoller>().PollAsync(Ct);

        Assert.Equal(new PollResult(0, 0, 1, 0), result);
        var stored = await Sql.ScalarAsync<byte[]>(database.ConnectionString, "select raw from inbound_messages");
        var headerLength = Encoding.ASCII.GetString(stored).IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        Assert.Equal(headerLength + (64 * 1024), stored.Length);
        Assert.True(await Sql.ScalarAsync<int>(database.ConnectionString, "select size_bytes from inbound_messages") > 2_500_000);
        Assert.True(await Sql.ScalarAsync<bool>(database.ConnectionString, "select raw_is_prefix from inbound_messages"));
        Assert.Equal("sender spoofer@evil.example is not in Newsletter:Inbox:AllowedSenders (only the headers and the first 65,536 bytes of the body are kept)",
            await Sql.ScalarAsync<string>(database.ConnectionString, "select reason from inbound_messages"));
        var kept = MimeMessage.Load(new MemoryStream(stored), Ct);
        Assert.Equal("Cheap papers, today only", kept.Subject);
        Assert.Equal("spoofer@evil.example", kept.From.Mailboxes.Single().Address);
        // The mailbox keeps the whole message.
        Assert.Single(await account.ListUidsAsync("Quarantine", Ct));
    }

    [Fact]
    public async Task Poll_LargeAutoReplyFromAStranger_StoresOnlyItsHeadersAndABoundedPrefix()
    {
        // Anyone can send mail that looks like an auto-reply or a report: it must not be a way past the quarantine's bound.
        await using var database = await TestDatabase.CreateAsync(Ct);
        var account = DovecotAccount.Create();
        var message = new MimeMessage { Subject = "Out of Office: back Monday", MessageId = "away-1@evil.example" };
        message.From.Add(new MailboxAddress("Someone", "someone@evil.example"));
        message.To.Add(new MailboxAddress("", "papers-inbox@lab.example.org"));
        message.Body = new TextPart("plain") { Text = string.Concat(Enumerable.Repeat("I am away.\n", 300_000)) };
        await account.AppendAsync("INBOX", message, Ct);
        await using var services = await TestApp.BuildAsync(imap: account, connectionString: database.ConnectionString);

        var result = await services.Services.GetRequiredService<InboxPoller>().PollAsync(Ct);

        Assert.Equal(new PollResult(0, 0, 0, 0, AutoReplies: 1), result);
        var stored = await Sql.ScalarAsync<byte[]>(database.ConnectionString, "select raw from inbound_messages");
        var headerLength = Encoding.ASCII.GetString(stored).IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        Assert.Equal(headerLength + (64 * 1024), stored.Length);
        Assert.True(await Sql.ScalarAsync<bool>(database.ConnectionString, "select raw_is_prefix from inbound_messages"));
    }

    [Fact]
    public async Task Reingest_FailsOnTheWay_TheMessageStaysInQuarantineAndSaysWhy()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        // From the allowed sender (signed by its domain), but no paper in it: quarantined whole, for an operator to judge again.
        var listing = Samples.Listing(new DateOnly(2025, 3, 12), []);
        var keys = new Org.BouncyCastle.Crypto.Generators.RsaKeyPairGenerator();
        keys.Init(new Org.BouncyCastle.Crypto.KeyGenerationParameters(new Org.BouncyCastle.Security.SecureRandom(), 1024));
        new MimeKit.Cryptography.DkimSigner(keys.GenerateKeyPair().Private, "notifications.huggingface.co", "s1")
            .Sign(listing, [HeaderId.From, HeaderId.Subject, HeaderId.Date]);
        var empty = Samples.ToBytes(listing);
        long inboundId;
        await using (var before = await TestApp.BuildAsync(connectionString: database.ConnectionString))
        {
            var outcome = await before.Services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(empty, empty.Length, "test"), Ct);
            Assert.Equal(IngestStatus.Quarantined, outcome.Status);
            inboundId = outcome.InboundMessageId;
        }

        // Judged again while DNS is down, with DKIM now required: the check cannot run.
        await using var after = await TestApp.BuildAsync(connectionString: database.ConnectionString,
            settings: new Dictionary<string, string?> { ["Newsletter:Inbox:RequireDkimFor:0"] = "huggingface.co" },
            replace: services => services.AddSingleton<MimeKit.Cryptography.IDkimPublicKeyLocator, DnsDownLocator>());
        var ingestor = after.Services.GetRequiredService<MessageIngestor>();

        await Assert.ThrowsAsync<IOException>(() => ingestor.ReingestAsync(inboundId, Ct));

        Assert.Equal("quarantined", await Sql.ScalarAsync<string>(database.ConnectionString, "select status from inbound_messages"));
        Assert.StartsWith("could not be judged again (IOException: DNS is unreachable); before: not a listing: no papers found",
            await Sql.ScalarAsync<string>(database.ConnectionString, "select reason from inbound_messages"), StringComparison.Ordinal);
    }

    private sealed class DnsDownLocator : MimeKit.Cryptography.DkimPublicKeyLocatorBase
    {
        public override Org.BouncyCastle.Crypto.AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            throw new IOException("DNS is unreachable");

        public override Task<Org.BouncyCastle.Crypto.AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            throw new IOException("DNS is unreachable");
    }

    [Fact]
    public async Task Poll_ListingFromAStrangerBackInTheInboxOnceTrusted_IsJudgedAgainFromTheWholeMessage()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        var account = DovecotAccount.Create();
        var mirrored = Samples.SampleMessage();
        mirrored.From.Clear();
        mirrored.From.Add(new MailboxAddress("Paper mirror", "papers@mirror.example"));
        var raw = Samples.ToBytes(mirrored);
        await account.AppendAsync("INBOX", raw, Ct);
        long inboundId;
        await using (var before = await TestApp.BuildAsync(imap: account, connectionString: database.ConnectionString))
        {
            Assert.Equal(new PollResult(0, 0, 1, 0), await before.Services.GetRequiredService<InboxPoller>().PollAsync(Ct));
            inboundId = await Sql.ScalarAsync<long>(database.ConnectionString, "select id from inbound_messages");
            // Re-ingesting the stored prefix would make an issue of a third of the listing: it is refused, with what to do.
            var refused = await before.Services.GetRequiredService<MessageIngestor>().ReingestAsync(inboundId, Ct);
            Assert.Equal(new IngestOutcome(IngestStatus.Quarantined, inboundId, null, MessageIngestor.PrefixOnlyReason), refused);
        }

        // The operator trusts the mirror and moves the message from the quarantine folder back to the inbox.
        var settings = new Dictionary<string, string?> { ["Newsletter:Inbox:AllowedSenders:1"] = "mirror.example" };
        await account.AppendAsync("INBOX", raw, Ct);
        await using var after = await TestApp.BuildAsync(imap: account, settings: settings, connectionString: database.ConnectionString);

        var result = await after.Services.GetRequiredService<InboxPoller>().PollAsync(Ct);

        Assert.Equal(new PollResult(1, 0, 0, 0), result);
        Assert.Equal(70, await Sql.ScalarAsync<int>(database.ConnectionString, "select paper_count from issues where inbound_message_id = @id", ("id", inboundId)));
        Assert.True(await Sql.ScalarAsync<bool>(database.ConnectionString, "select octet_length(raw) = size_bytes from inbound_messages"));
        Assert.False(await Sql.ScalarAsync<bool>(database.ConnectionString, "select raw_is_prefix from inbound_messages"));
    }

    [Fact]
    public async Task Poll_ListingOverTheCapBackInTheInboxOnceTheCapIsRaised_IsIngestedFromTheWholeMessage()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        var account = DovecotAccount.Create();
        var raw = Samples.SampleEml;
        await account.AppendAsync("INBOX", raw, Ct);
        long inboundId;
        var small = new Dictionary<string, string?> { ["Newsletter:Inbox:MaxMessageBytes"] = "100000" };
        await using (var before = await TestApp.BuildAsync(imap: account, settings: small, connectionString: database.ConnectionString))
        {
            Assert.Equal(new PollResult(0, 0, 1, 0), await before.Services.GetRequiredService<InboxPoller>().PollAsync(Ct));
            inboundId = await Sql.ScalarAsync<long>(database.ConnectionString, "select id from inbound_messages");
        }

        // The operator raises the cap. Only the headers were downloaded, so judging them again would find no papers.
        await using var after = await TestApp.BuildAsync(imap: account, connectionString: database.ConnectionString);
        var refused = await after.Services.GetRequiredService<MessageIngestor>().ReingestAsync(inboundId, Ct);
        Assert.Equal(new IngestOutcome(IngestStatus.Quarantined, inboundId, null, MessageIngestor.PrefixOnlyReason), refused);
        // Moved from the quarantine folder back to the inbox, the whole message is downloaded and judged.
        await account.AppendAsync("INBOX", raw, Ct);

        var result = await after.Services.GetRequiredService<InboxPoller>().PollAsync(Ct);

        Assert.Equal(new PollResult(1, 0, 0, 0), result);
        Assert.Equal(70, await Sql.ScalarAsync<int>(database.ConnectionString, "select paper_count from issues where inbound_message_id = @id", ("id", inboundId)));
        Assert.Equal(1L, await Sql.ScalarAsync<long>(database.ConnectionString, "select count(*) from issues"));
        Assert.False(await Sql.ScalarAsync<bool>(database.ConnectionString, "select raw_is_prefix from inbound_messages"));
    }

    [Fact]
    public async Task RunAsync_QuarantinedMessagesOlderAndYoungerThanTheRetention_DeletesOnlyTheOldOnes()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        var account = DovecotAccount.Create();
        await account.AppendAsync("INBOX", Samples.Listing(new DateOnly(2025, 3, 12), Samples.SamplePapers().Take(3), from: "old@evil.example"), Ct);
        await account.AppendAsync("INBOX", Samples.Listing(new DateOnly(2025, 3, 13), Samples.SamplePapers().Take(3), from: "young@evil.example"), Ct);
        await account.AppendAsync("INBOX", Samples.SampleEml, Ct);
        await using var services = await TestApp.BuildAsync(imap: account, connectionString: database.ConnectionString);
        Assert.Equal(new PollResult(1, 0, 2, 0), await services.Services.GetRequiredService<InboxPoller>().PollAsync(Ct));
        // Quarantined 31 days and 29 days ago; the listing was ingested 31 days ago and is never deleted.
        await Sql.ScalarAsync<int>(database.ConnectionString,
            """
            with aged as (
                update inbound_messages set processed_at = now() - case when from_address = 'young@evil.example' then interval '29 days' else interval '31 days' end
                returning 1)
            select count(*)::int from aged
            """);

        var deleted = await services.Services.GetRequiredService<QuarantineRetentionJob>().RunAsync(Ct);

        Assert.Equal(1, deleted);
        Assert.Equal(["ingested:papers@notifications.huggingface.co", "quarantined:young@evil.example"],
            await Rows(database.ConnectionString));
    }

    private static async Task<List<string>> Rows(string connectionString)
    {
        var rows = await Sql.ScalarAsync<string[]>(connectionString,
            "select array_agg(status || ':' || from_address order by from_address) from inbound_messages");
        return [.. rows];
    }
}
