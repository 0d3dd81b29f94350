using Microsoft.Extensions.DependencyInjection;
using Newsletter.Digests;
using Newsletter.IntegrationTests.Admin;

namespace Newsletter.IntegrationTests.Digests;

/// <summary>What the daily fan-out writes to the ledger for readers whose stored line it cannot read.</summary>
[Collection(SerialHangfireTests.Name)]
public sealed class FanOutTests
{
    [Fact]
    public async Task FanOut_AStoredLineThatNoLongerParses_ItsReadersRowsSayWhyAndTheOthersGetTheirPapers()
    {
        await using var app = await TestApp.BuildAsync();
        await app.AddSubscriberAsync("reads-diffusion@lab.example.org", "diffusion");
        foreach (var email in new[] { "older-rules@lab.example.org", "older-rules-too@lab.example.org" })
        {
            await app.AddSubscriberAsync(email, "diffusion");
            // A line saved before the parser's rules changed: the store would refuse it today.
            await app.ExecuteAsync("update subscribers set interests = 'diffusion \"low rank' where email = @email", ("email", email));
        }
        var issue = await app.IngestSamplePapersSayingAsync("diffusion");

        await app.Services.GetRequiredService<FanOutJob>().RunAsync(issue, 1, Ct);

        var rows = await app.ReadAsync(
            """
            select s.email, d.status, cardinality(d.paper_ids), coalesce(d.error, '')
            from deliveries d join subscribers s on s.id = d.subscriber_id
            where d.issue_id = @issue order by s.email
            """,
            reader => (Email: reader.GetString(0), Status: reader.GetString(1), Papers: reader.GetInt32(2), Error: reader.GetString(3)),
            ("issue", issue));
        Assert.Equal(["older-rules-too@lab.example.org", "older-rules@lab.example.org", "reads-diffusion@lab.example.org"],
            rows.Select(r => r.Email));
        Assert.All(rows.Take(2), row =>
        {
            Assert.Equal("skipped", row.Status);
            Assert.Equal(0, row.Papers);
            Assert.StartsWith("interests could not be read: ", row.Error, StringComparison.Ordinal);
            Assert.Contains("never closed", row.Error, StringComparison.Ordinal);
        });
        Assert.Equal("pending", rows[2].Status);
        Assert.True(rows[2].Papers >= 2, $"the diffusion reader's digest holds {rows[2].Papers} papers");
        Assert.Equal("", rows[2].Error);
    }

    [Fact]
    public async Task FanOut_AReaderErasedWhileItIsPlanning_TheOthersRowsAreWrittenAtOnce()
    {
        await using var app = await TestApp.BuildAsync();
        await app.AddSubscriberAsync("stays@lab.example.org", "diffusion");
        var leaving = await app.AddSubscriberAsync("leaves@lab.example.org", "diffusion");
        var issue = await app.IngestSamplePapersSayingAsync("diffusion");

        // The fan-out has read who the issue reaches and has not written its rows yet (the test holds its generation's row) ...
        await using var holder = await app.OpenConnectionAsync();
        await using var hold = await holder.BeginTransactionAsync(Ct);
        await using (var row = new Npgsql.NpgsqlCommand($"select 1 from delivery_generations where issue_id = {issue} for update", holder, hold))
        {
            await row.ExecuteNonQueryAsync(Ct);
        }
        var fanOut = app.Services.GetRequiredService<FanOutJob>().RunAsync(issue, 1, Ct);
        await Eventually.WaitAsync(async () => await app.ScalarAsync<long>(
            "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and query like '%fanned_out_at is not null%'") > 0,
            "the fan-out waiting to write its rows");
        // ... when the admin erases a reader with all their data.
        Assert.True(await app.Services.GetRequiredService<Newsletter.Subscribers.SubscriberStore>().DeleteAsync(leaving.Id, Ct));
        await hold.RollbackAsync(Ct);
        var failure = await Record.ExceptionAsync(() => fanOut.WaitAsync(Eventually.DefaultTimeout, Ct));

        Assert.Null(failure);
        Assert.Equal(["stays@lab.example.org: pending"], await app.RowsAsync(
            "select s.email || ': ' || d.status from deliveries d join subscribers s on s.id = d.subscriber_id where d.issue_id = @issue",
            ("issue", issue)));
    }
}
