using Microsoft.Extensions.DependencyInjection;
using Newsletter.Admin;
using Newsletter.Digests;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>A re-send is a new generation of ledger rows for exactly the scope's subscribers; earlier rows never change.</summary>
[Collection(SerialHangfireTests.Name)]
public sealed class ResendScopeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Generation1 =
        "select subscriber_id, status, paper_ids::text, attempts, smtp_reply, error, created_at, updated_at, sent_at from deliveries where generation = 1 order by id";

    [Fact]
    public async Task Resend_FailedScope_OnlyFailedAndDeferredSubscribersAndGeneration1Unchanged()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var services = await TestServices.BuildAsync(database.ConnectionString);
        var (issue, ids) = await SentIssueAsync(services);
        var before = await AdminTestKit.RowsAsync(database.ConnectionString, Generation1);

        var (requested, reached) = await ResendAsync(services, database.ConnectionString, issue, GenerationScope.Failed, null);

        Assert.Equal(2, requested.Generation);
        Assert.Equal(2, requested.Recipients);
        Assert.Equal([ids["failed"], ids["deferred"]], reached);
        Assert.Equal(before, await AdminTestKit.RowsAsync(database.ConnectionString, Generation1));
    }

    [Fact]
    public async Task Resend_NewScope_OnlySubscribersWithoutARowForTheIssue()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var services = await TestServices.BuildAsync(database.ConnectionString);
        var (issue, ids) = await SentIssueAsync(services);
        var store = services.GetRequiredService<SubscriberStore>();
        var joined = (await store.UpsertAsync("joined-later@lab.example.org", "", SubscriberStatus.Active, DigestFormat.Html, Ct)).Subscriber.Id;
        await store.UpsertAsync("paused-later@lab.example.org", "", SubscriberStatus.Paused, DigestFormat.Html, Ct);
        var before = await AdminTestKit.RowsAsync(database.ConnectionString, Generation1);

        var preview = await services.GetRequiredService<Resender>().PreviewAsync(issue, GenerationScope.New, null, Ct);
        var (requested, reached) = await ResendAsync(services, database.ConnectionString, issue, GenerationScope.New, null);

        Assert.Equal(1, preview.Recipients);
        Assert.Equal(2, preview.NextGeneration);
        Assert.Equal(1, requested.Recipients);
        Assert.Equal([joined], reached);
        Assert.DoesNotContain(ids.Values, reached.Contains);
        Assert.Equal(before, await AdminTestKit.RowsAsync(database.ConnectionString, Generation1));
    }

    [Fact]
    public async Task Resend_OneScope_ThatAddressOnlyAndRecordsWhoAsked()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var services = await TestServices.BuildAsync(database.ConnectionString);
        var (issue, ids) = await SentIssueAsync(services);
        var before = await AdminTestKit.RowsAsync(database.ConnectionString, Generation1);

        var (requested, reached) = await ResendAsync(services, database.ConnectionString, issue, GenerationScope.One, "SENT@lab.example.org");
        var (second, reachedAgain) = await ResendAsync(services, database.ConnectionString, issue, GenerationScope.All, null);

        Assert.Equal(1, requested.Recipients);
        Assert.Equal([ids["sent"]], reached);
        Assert.Equal(3, second.Generation);
        Assert.Equal(ids.Values.Order().ToList(), reachedAgain);
        Assert.Equal(["1 | issue | null | inbox", $"2 | one | {ids["sent"]} | admin:test", "3 | all | null | admin:test"],
            await AdminTestKit.RowsAsync(database.ConnectionString,
                "select generation, scope, subscriber_id, requested_by from delivery_generations where issue_id = @issue order by generation", ("issue", issue)));
        Assert.Equal(before, await AdminTestKit.RowsAsync(database.ConnectionString, Generation1));
        await Assert.ThrowsAsync<ResendRefusedException>(() => services.GetRequiredService<Resender>()
            .RequestAsync(issue, GenerationScope.One, "nobody@lab.example.org", "admin:test", Ct));
    }

    /// <summary>The sample issue fanned out to four active subscribers, whose rows then ended sent, failed, deferred and sent.</summary>
    private static async Task<(long Issue, Dictionary<string, long> Ids)> SentIssueAsync(ServiceProvider services)
    {
        var store = services.GetRequiredService<SubscriberStore>();
        var ids = new Dictionary<string, long>();
        foreach (var name in new[] { "sent", "failed", "deferred", "sent-too" })
        {
            ids[name] = (await store.UpsertAsync($"{name}@lab.example.org", "", SubscriberStatus.Active, DigestFormat.Html, Ct)).Subscriber.Id;
        }
        var issue = await AdminTestKit.IngestSampleAsync(services);
        await services.GetRequiredService<FanOutJob>().RunAsync(issue, 1, Ct);
        var db = services.GetRequiredService<Npgsql.NpgsqlDataSource>();
        await using var outcome = db.CreateCommand(
            """
            update deliveries d set status = case s.email when 'failed@lab.example.org' then 'failed' when 'deferred@lab.example.org' then 'deferred' else 'sent' end,
                attempts = 1, smtp_reply = '250 2.0.0 queued', updated_at = now(), sent_at = now()
            from subscribers s where s.id = d.subscriber_id and d.generation = 1
            """);
        await outcome.ExecuteNonQueryAsync(Ct);
        return (issue, ids);
    }

    private static async Task<(ResendRequested Requested, List<long> Reached)> ResendAsync(ServiceProvider services, string connectionString, long issue, GenerationScope scope, string? email)
    {
        var requested = await services.GetRequiredService<Resender>().RequestAsync(issue, scope, email, "admin:test", Ct);
        await services.GetRequiredService<FanOutJob>().RunAsync(issue, requested.Generation, Ct);
        var rows = await AdminTestKit.RowsAsync(connectionString,
            "select subscriber_id from deliveries where issue_id = @issue and generation = @generation order by subscriber_id",
            ("issue", issue), ("generation", requested.Generation));
        return (requested, rows.Select(r => long.Parse(r, System.Globalization.CultureInfo.InvariantCulture)).ToList());
    }
}
