using Microsoft.Extensions.DependencyInjection;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Admin;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Xunit;

namespace Newsletter.IntegrationTests.Inbox;

/// <summary>A message that cannot be parsed within Newsletter:Inbox:ParseTimeout leaves the inbox and stops nothing.</summary>
public sealed class ParseBudgetTests
{
    [Fact]
    public async Task Poll_MessagesOverTheirParseBudget_AreQuarantinedWithTheReasonAndThePollGoesOn()
    {
        var account = DovecotAccount.Create();
        await account.AppendAsync("INBOX", Samples.SampleEml, Ct);
        await account.AppendAsync("INBOX", Samples.Listing(new DateOnly(2025, 3, 12), Samples.SamplePapers().Take(3)), Ct);
        await using var app = await TestApp.BuildAsync(imap: account,
            settings: new Dictionary<string, string?> { ["Newsletter:Inbox:ParseTimeout"] = "00:00:00.0000001" });
        var poller = app.Services.GetRequiredService<InboxPoller>();

        var result = await poller.PollAsync(Ct);

        Assert.Equal(new PollResult(0, 0, 2, 0), result);
        Assert.Empty(await account.ListUidsAsync("INBOX", Ct));
        Assert.Equal(2, (await account.ListUidsAsync("Quarantine", Ct)).Count);
        Assert.Equal(2L, await app.ScalarAsync<long>(
            "select count(*) from inbound_messages where status = 'quarantined' and reason = 'could not be parsed within Newsletter:Inbox:ParseTimeout (00:00:00.0000001)'"));
        Assert.Equal(new PollResult(0, 0, 0, 0), await poller.PollAsync(Ct));
    }

    [Theory]
    [InlineData("parts", "20,001 lines start with \"--\" (possible MIME parts); at most 5,000 are read")]
    [InlineData("headers", "60,004 lines in header blocks; at most 50,000 are read")]
    public async Task Ingest_AMessageOfThousandsOfPartsOrHeaders_QuarantinedUnreadWithTheReason(string shape, string reason)
    {
        // Small on the wire (about half a megabyte), and gigabytes of parser objects at the 25 MB the inbox accepts.
        var head = "From: spoofer@evil.example\r\nSubject: many\r\nMessage-ID: <many@evil.example>\r\nMIME-Version: 1.0\r\n";
        var text = shape == "parts"
            ? head + "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + string.Concat(Enumerable.Repeat("--b\r\n\r\n", 20_000)) + "--b--\r\n"
            : head + string.Concat(Enumerable.Repeat("X-A: b\r\n", 60_000)) + "\r\nbody\r\n";
        var bytes = System.Text.Encoding.ASCII.GetBytes(text);
        await using var app = await TestApp.BuildAsync();

        var outcome = await app.Services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(bytes, bytes.Length, "test"), Ct);

        Assert.Equal(IngestStatus.Quarantined, outcome.Status);
        Assert.StartsWith($"not read: {reason}", await app.ScalarAsync<string>("select reason from inbound_messages"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("message", "X-A : b", "60,004")]
    [InlineData("message", "long name", "60,004")]
    [InlineData("message", "XA", "60,004")]
    [InlineData("part", "X-A : b", "60,006")]
    [InlineData("attached message", "XA", "60,006")]
    [InlineData("digest", "XA", "60,006")]
    public async Task Ingest_ThousandsOfHeaderLinesOfAnyShape_QuarantinedUnreadWithTheReason(string block, string line, string count)
    {
        // MimeKit makes a header of a line with a space before its colon, of a name longer than a line, and of a line
        // without a colon, in the message's own header block and in every block it reads as one.
        line = line == "long name" ? "X-" + new string('a', 80) + ": b" : line;
        var head = "From: spoofer@evil.example\r\nSubject: many\r\nMessage-ID: <many@evil.example>\r\nMIME-Version: 1.0\r\n";
        var lines = string.Concat(Enumerable.Repeat(line + "\r\n", 60_000));
        var text = block switch
        {
            "message" => head + lines + "\r\nbody\r\n",
            "part" => head + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n" + lines + "\r\nbody\r\n--b--\r\n",
            "attached message" => head + "Content-Type: message/rfc822\r\n\r\nFrom: a@evil.example\r\n" + lines + "\r\nbody\r\n",
            _ => head + "Content-Type: multipart/digest; boundary=b\r\n\r\n--b\r\n\r\nFrom: a@evil.example\r\n" + lines + "\r\nbody\r\n--b--\r\n",
        };
        var bytes = System.Text.Encoding.ASCII.GetBytes(text);
        await using var app = await TestApp.BuildAsync();

        var outcome = await app.Services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(bytes, bytes.Length, "test"), Ct);

        Assert.Equal(IngestStatus.Quarantined, outcome.Status);
        Assert.StartsWith($"not read: {count} lines in header blocks; at most 50,000 are read",
            await app.ScalarAsync<string>("select reason from inbound_messages"), StringComparison.Ordinal);
    }
}
