using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Admin;
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
        await using var database = await TestDatabase.CreateAsync(Ct);
        var account = DovecotAccount.Create();
        var sample = Encoding.ASCII.GetString(Samples.SampleEml);
        var relabelled = Encoding.ASCII.GetBytes(sample.Replace("Content-Type: text/plain; charset=\"utf-8\"", "Content-Type: text/plain; charset=\"x-mac-klingon\"", StringComparison.Ordinal));
        await account.AppendAsync("INBOX", relabelled, Ct);
        await using var services = await TestServices.BuildAsync(database.ConnectionString, TestServices.ImapSettings(account));

        var result = await services.GetRequiredService<InboxPoller>().PollAsync(Ct);

        Assert.Equal(new PollResult(1, 0, 0, 0), result);
        Assert.Equal(70, await AdminTestKit.ScalarAsync<int>(database.ConnectionString, "select paper_count from issues"));
        Assert.Equal("a text/plain part declares charset \"x-mac-klingon\", which is unknown: read as UTF-8",
            await AdminTestKit.ScalarAsync<string>(database.ConnectionString, "select reason from inbound_messages"));
    }
}
