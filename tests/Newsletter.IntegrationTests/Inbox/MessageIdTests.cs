using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Newsletter.Inbox;

namespace Newsletter.IntegrationTests.Inbox;

/// <summary>
/// A Message-ID is only what the sender wrote: a stranger who sends mail under a listing's id first does not decide what
/// becomes of the listing. Real PostgreSQL.
/// </summary>
public sealed class MessageIdTests
{
    [Fact]
    public async Task Ingest_StrangerUsedTheListingsMessageIdFirst_ListingStillBecomesTheIssueAndTheStrangersMailStaysQuarantined()
    {
        await using var app = await TestApp.BuildAsync();
        var ingestor = app.Services.GetRequiredService<MessageIngestor>();
        var squat = new MimeMessage { Subject = "hello", MessageId = Samples.SampleMessage().MessageId! };
        squat.From.Add(new MailboxAddress("", "someone@evil.example"));
        squat.To.Add(new MailboxAddress("", "papers-inbox@lab.example.org"));
        squat.Body = new TextPart("plain") { Text = "hi" };
        var squatBytes = Samples.ToBytes(squat);
        var first = await ingestor.IngestAsync(new InboundMail(squatBytes, squatBytes.Length, "imap", "INBOX", 1, 1), Ct);
        Assert.Equal(IngestStatus.Quarantined, first.Status);

        var listing = Samples.SampleEml;
        var real = await ingestor.IngestAsync(new InboundMail(listing, listing.Length, "imap", "INBOX", 1, 2), Ct);

        Assert.Equal(IngestStatus.Ingested, real.Status);
        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from issues"));
        Assert.NotEqual(first.InboundMessageId, real.InboundMessageId);
        Assert.Equal("quarantined", await app.ScalarAsync<string>("select status from inbound_messages where id = @id", ("id", first.InboundMessageId)));
        Assert.StartsWith("sender someone@evil.example is not in",
            await app.ScalarAsync<string>("select reason from inbound_messages where id = @id", ("id", first.InboundMessageId)), StringComparison.Ordinal);
        // The listing again, and the stranger's mail again, are copies of what is stored, with its verdict.
        Assert.Equal(IngestStatus.Duplicate, (await ingestor.IngestAsync(new InboundMail(listing, listing.Length, "imap", "INBOX", 1, 3), Ct)).Status);
        var squatAgain = await ingestor.IngestAsync(new InboundMail(squatBytes, squatBytes.Length, "imap", "INBOX", 1, 4), Ct);
        Assert.Equal((IngestStatus.Quarantined, first.InboundMessageId), (squatAgain.Status, squatAgain.InboundMessageId));
        Assert.Equal(2L, await app.ScalarAsync<long>("select count(*) from inbound_messages"));
    }
}
