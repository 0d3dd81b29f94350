using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MailKit;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Hosting;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Admin;

namespace Newsletter.IntegrationTests.Inbox;

/// <summary>An admin re-ingests a quarantined listing once its sender is trusted: real Dovecot, PostgreSQL, Hangfire.</summary>
public sealed class QuarantineReleaseTests
{
    [Fact]
    public async Task Reingest_SenderNowAllowed_BecomesAnIssueAndTheImapCopyMovesToProcessed()
    {
        // One database for two runs of the application, before and after the operator's change.
        await using var database = await TestDatabase.CreateAsync(Ct);
        var account = DovecotAccount.Create();
        var listing = Samples.Listing(new DateOnly(2025, 3, 12), Samples.SamplePapers().Take(3), from: "papers@mirror.example");
        await account.AppendAsync("INBOX", listing, Ct);
        long inboundId;
        await using (var before = await TestApp.BuildAsync(imap: account, connectionString: database.ConnectionString))
        {
            Assert.Equal(new PollResult(0, 0, 1, 0), await before.Services.GetRequiredService<InboxPoller>().PollAsync(Ct));
            inboundId = await before.ScalarAsync<long>("select id from inbound_messages");
        }
        Assert.Single(await account.ListUidsAsync("Quarantine", Ct));

        // The operator trusts the mirror now and restarts with it allowed.
        await using var app = await TestApp.StartAsync(imap: account, role: ProcessRole.All, connectionString: database.ConnectionString,
            settings: new Dictionary<string, string?> { ["Newsletter:Inbox:AllowedSenders:1"] = "mirror.example" });
        using var api = AdminTestKit.ApiClient(app);

        using var response = await api.PostAsync($"admin/api/quarantine/{inboundId}/reingest", null, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var outcome = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("ingested", outcome.GetProperty("status").GetString());
        Assert.Equal(3, await app.ScalarAsync<int>("select paper_count from issues"));
        // The job creates Processed (the first poll only needed Quarantine) and moves the copy there.
        await Eventually.WaitAsync(async () => await CountAsync(account, "Processed") == 1, "the copy to reach Processed");
        Assert.Empty(await account.ListUidsAsync("Quarantine", Ct));
        Assert.Empty(await account.ListUidsAsync("INBOX", Ct));

        // Asking again changes nothing: the message is not quarantined any more.
        using var again = await api.PostAsync($"admin/api/quarantine/{inboundId}/reingest", null, Ct);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from issues"));
    }

    private static async Task<int> CountAsync(DovecotAccount account, string folder)
    {
        try
        {
            return (await account.ListUidsAsync(folder, Ct)).Count;
        }
        catch (FolderNotFoundException)
        {
            return 0;
        }
    }
}
