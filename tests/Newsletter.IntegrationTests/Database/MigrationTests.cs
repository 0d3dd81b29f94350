using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;
using Newsletter.Database;
using Newsletter.Digests;
using Newsletter.Inbox;

namespace Newsletter.IntegrationTests.Database;

/// <summary>
/// Migrations that change stored rows: each starts from the schema the release before it left (the scripts up to its
/// number), with rows as that release wrote them, and checks what the upgraded application then does with them.
/// </summary>
[Collection(Newsletter.IntegrationTests.Admin.SerialHangfireTests.Name)]
public sealed class MigrationTests
{
    [Fact]
    public async Task Migration0021_ListingsQuarantinedOverTheCapAsIfWhole_ReingestAsksForTheWholeMessageWhichThenBecomesTheIssue()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        await Migrator.MigrateAsync(database.ConnectionString, NullLogger.Instance, through: 20, Ct);
        var listing = Samples.SampleEml;
        var other = Samples.ToBytes(Samples.Listing(new DateOnly(2025, 3, 12), Samples.SamplePapers().Take(3)));
        var stranger = Samples.ToBytes(Samples.Listing(new DateOnly(2025, 3, 13), Samples.SamplePapers().Take(3), from: "stranger@evil.example"));
        // Over the cap, only the headers were downloaded and stored as if they were the whole message.
        var capped = await InsertQuarantinedAsync(database, listing, MessageIngestor.QuarantinedPrefix(listing, 0),
            $"message is {listing.Length:N0} bytes, over Newsletter:Inbox:MaxMessageBytes (100,000)");
        // Re-ingested before the fix, from its headers: its reason no longer names the cap.
        var judgedAgain = await InsertQuarantinedAsync(database, other, MessageIngestor.QuarantinedPrefix(other, 0), "not a listing: no papers found");
        // Whole mail from a stranger: it can still be judged again from what is stored.
        var whole = await InsertQuarantinedAsync(database, stranger, stranger, "sender stranger@evil.example is not in Newsletter:Inbox:AllowedSenders");

        await Migrator.MigrateAsync(database.ConnectionString, NullLogger.Instance, Ct);

        var account = DovecotAccount.Create();
        await using var app = await TestApp.BuildAsync(imap: account, connectionString: database.ConnectionString);
        var ingestor = app.Services.GetRequiredService<MessageIngestor>();
        Assert.Equal(new IngestOutcome(IngestStatus.Quarantined, capped, null, MessageIngestor.PrefixOnlyReason), await ingestor.ReingestAsync(capped, Ct));
        Assert.Equal(new IngestOutcome(IngestStatus.Quarantined, judgedAgain, null, MessageIngestor.PrefixOnlyReason), await ingestor.ReingestAsync(judgedAgain, Ct));
        Assert.Equal($"message is {other.Length:N0} bytes, over Newsletter:Inbox:MaxMessageBytes when it arrived, so only its headers were kept",
            await app.ScalarAsync<string>("select reason from inbound_messages where id = @id", ("id", judgedAgain)));
        Assert.StartsWith("sender stranger@evil.example", (await ingestor.ReingestAsync(whole, Ct))!.Reason, StringComparison.Ordinal);

        // Moved from the quarantine folder back to the inbox, the whole listing replaces its headers and becomes the issue.
        await account.AppendAsync("INBOX", listing, Ct);
        Assert.Equal(new PollResult(1, 0, 0, 0), await app.Services.GetRequiredService<InboxPoller>().PollAsync(Ct));
        Assert.Equal(70, await app.ScalarAsync<int>("select paper_count from issues where inbound_message_id = @id", ("id", capped)));
        Assert.False(await app.ScalarAsync<bool>("select raw_is_prefix from inbound_messages where id = @id", ("id", capped)));
        Assert.Equal(3L, await app.ScalarAsync<long>("select count(*) from inbound_messages"));
    }

    [Fact]
    public async Task Migration0025_ALineSavedWithAControlCharacter_ItsReaderStillGetsTheirPapers()
    {
        // Pasted before the parser refused control characters (a DEL between two words, a C1 code from a Windows-1252 paste).
        await using var database = await TestDatabase.CreateAsync(Ct);
        await Migrator.MigrateAsync(database.ConnectionString, NullLogger.Instance, through: 24, Ct);
        await Sql.ExecuteAsync(database.ConnectionString,
            """
            insert into subscribers (email, status, interests, created_at, updated_at)
            values ('pasted@lab.example.org', 'active', 'diffusion' || chr(127) || 'video' || chr(150) || 'generation', now(), now())
            """);

        await Migrator.MigrateAsync(database.ConnectionString, NullLogger.Instance, Ct);

        await using var app = await TestApp.BuildAsync(connectionString: database.ConnectionString);
        Assert.Equal("diffusion video generation", await app.ScalarAsync<string>("select interests from subscribers"));
        var issue = await app.IngestSampleAsync();
        await app.Services.GetRequiredService<FanOutJob>().RunAsync(issue, 1, Ct);
        var (status, papers, error) = (await app.ReadAsync("select status, cardinality(paper_ids), coalesce(error, '') from deliveries",
            reader => (reader.GetString(0), reader.GetInt32(1), reader.GetString(2)))).Single();
        Assert.Equal(("pending", ""), (status, error));
        Assert.True(papers > 0, "the reader's digest holds no paper");
    }

    /// <summary>A row as the poller stored quarantined mail before migration 0021: <paramref name="stored"/> of <paramref name="message"/>, never marked a prefix.</summary>
    private static async Task<long> InsertQuarantinedAsync(TestDatabase database, byte[] message, byte[] stored, string reason)
    {
        var headers = MimeMessage.Load(new MemoryStream(message), Ct);
        return await Sql.ScalarAsync<long>(database.ConnectionString,
            """
            insert into inbound_messages (message_id, sha256, source, folder, from_address, subject, size_bytes, raw, status, reason, received_at, processed_at)
            values (@message_id, @sha256, 'imap', 'INBOX', @from, @subject, @size, @raw, 'quarantined', @reason, now(), now())
            returning id
            """,
            ("message_id", MessageIngestor.NormalizedMessageId(headers.MessageId)!), ("sha256", SHA256.HashData(stored)),
            ("from", headers.From.Mailboxes.Single().Address), ("subject", headers.Subject!), ("size", message.Length), ("raw", stored),
            ("reason", reason));
    }
}
