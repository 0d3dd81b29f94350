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
}
