using Microsoft.Extensions.DependencyInjection;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Support;
using Newsletter.Papers;
using Newsletter.Relevance;
using Xunit;

namespace Newsletter.IntegrationTests.Relevance;

/// <summary>
/// A day's closeness is standardised against its own papers and the listing before it: which listing that is, read from
/// real PostgreSQL.
/// </summary>
public sealed class ListingBeforeTests
{
    [Fact]
    public async Task LoadStoredIssue_ListingsArrivingOutOfOrder_TheListingBeforeIsTheDayBeforeWithoutTheIssuesOwnPapers()
    {
        await using var app = await TestApp.BuildAsync();
        var sample = Samples.SamplePapers();
        // Monday's listing arrives, then Wednesday's, then Tuesday's (late); Wednesday repeats one of Tuesday's papers.
        var monday = await IngestAsync(app, new DateOnly(2026, 5, 11), sample.Take(10));
        var wednesday = await IngestAsync(app, new DateOnly(2026, 5, 13), sample.Skip(20).Take(6).Append(sample[10]));
        var tuesday = await IngestAsync(app, new DateOnly(2026, 5, 12), sample.Skip(10).Take(8));
        // Vectors as a fan-out would have stored them (any unit vectors: the test is about which papers count).
        var random = new Random(3);
        foreach (var id in await app.ReadAsync("select id from papers", r => r.GetInt64(0)))
        {
            var vector = Embedding.Normalize([.. Enumerable.Range(0, 384).Select(_ => (float)random.NextDouble() - 0.5f)]);
            await app.ExecuteAsync("insert into paper_embeddings (paper_id, model, vector) values (@id, @model, @vector)",
                ("id", id), ("model", RelevanceStore.Model), ("vector", vector.ToBytes()));
        }
        var relevance = app.Services.GetRequiredService<RelevanceStore>();
        var papers = app.Services.GetRequiredService<PaperStore>();

        async Task<IssueSimilarities> Load(long issue) =>
            (await relevance.LoadStoredIssueAsync(issue, await papers.GetIssuePapersAsync(issue, Ct), Ct))!;

        // Monday is the first listing: its own papers only.
        var first = await Load(monday);
        Assert.Equal((10, 10), (first.PaperCount, first.RowWidth));
        // Tuesday arrived last, but Monday's listing is the one before it.
        var second = await Load(tuesday);
        Assert.Equal((8, 8 + 10), (second.PaperCount, second.RowWidth));
        // Wednesday's is Tuesday's, without the paper both listings have.
        var third = await Load(wednesday);
        Assert.Equal((7, 7 + 7), (third.PaperCount, third.RowWidth));
    }

    private static async Task<long> IngestAsync(TestApp app, DateOnly day, IEnumerable<(string Title, string Abstract)> listing)
    {
        var bytes = Samples.ToBytes(Samples.Listing(day, listing));
        var outcome = await app.Services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(bytes, bytes.Length, "test"), Ct);
        Assert.Equal(IngestStatus.Ingested, outcome.Status);
        return outcome.IssueId!.Value;
    }
}
