using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Xunit;

namespace Newsletter.IntegrationTests.Inbox;

/// <summary>What the parser had to guess about a message is stored with it and logged.</summary>
public sealed class InboundNotesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Poll_ListingInAnUnknownCharset_IsIngestedAndTheGuessIsStored()
    {
        var account = DovecotAccount.Create();
        var sample = Encoding.ASCII.GetString(Samples.SampleEml);
        var relabelled = Encoding.ASCII.GetBytes(sample.Replace("Content-Type: text/plain; charset=\"utf-8\"", "Content-Type: text/plain; charset=\"x-mac-klingon\"", StringComparison.Ordinal));
        await account.AppendAsync("INBOX", relabelled, Ct);
        await using var app = await TestApp.BuildAsync(imap: account);

        var result = await app.Services.GetRequiredService<InboxPoller>().PollAsync(Ct);

        Assert.Equal(new PollResult(1, 0, 0, 0), result);
        Assert.Equal(70, await Sql.ScalarAsync<int>(app.ConnectionString, "select paper_count from issues"));
        Assert.Equal("a text/plain part declares charset \"x-mac-klingon\", which is unknown: read as UTF-8",
            await Sql.ScalarAsync<string>(app.ConnectionString, "select reason from inbound_messages"));
    }
}
