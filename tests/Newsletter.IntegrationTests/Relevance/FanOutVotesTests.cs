using Microsoft.Extensions.DependencyInjection;
using Newsletter.Relevance;

namespace Newsletter.IntegrationTests.Relevance;

/// <summary>The readers' votes as a fan-out reads them from real PostgreSQL.</summary>
public sealed class FanOutVotesTests
{
    [Fact]
    public async Task Votes_ComeByReaderInTheirLinesOrder_EachVotedPaperReadOnce_AndAPaperWithoutAVectorLeftOut()
    {
        await using var app = await TestApp.BuildAsync();
        var issue = await app.IngestSampleAsync();
        var papers = await app.ReadAsync(
            "select p.id, p.title from issue_papers ip join papers p on p.id = ip.paper_id where ip.issue_id = @issue order by ip.position limit 3",
            reader => (Id: reader.GetInt64(0), Title: reader.GetString(1)), ("issue", issue));
        var vectors = new[] { UnitVector(0), UnitVector(1) };
        for (var k = 0; k < vectors.Length; k++)
        {
            await app.ExecuteAsync(
                "insert into paper_embeddings (paper_id, model, vector) values (@paper, @model, @vector) on conflict (paper_id) do update set vector = excluded.vector",
                ("paper", papers[k].Id), ("model", RelevanceStore.Model), ("vector", vectors[k].ToBytes()));
        }
        // The third paper's embedding failed: a vote on it waits until the paper has a vector.
        await app.ExecuteAsync("delete from paper_embeddings where paper_id = @paper", ("paper", papers[2].Id));
        // Added first, but "zebra" comes after "alpha" in a fan-out, which reads readers by line.
        var zebra = await app.AddSubscriberAsync("zebra@lab.example.org", "zebra");
        var alpha = await app.AddSubscriberAsync("alpha@lab.example.org", "alpha");
        await VoteAsync(app, zebra.Id, papers[0].Id, 1, minutesAgo: 3);
        await VoteAsync(app, zebra.Id, papers[1].Id, -1, minutesAgo: 2);
        await VoteAsync(app, zebra.Id, papers[2].Id, 1, minutesAgo: 1);
        await VoteAsync(app, alpha.Id, papers[0].Id, -1, minutesAgo: 1);

        var votes = await app.Services.GetRequiredService<RelevanceStore>().VotesAsync(null, Ct);

        // In the order a fan-out plans its readers, as VotesAsync promises: the planner then walks them as they lie in memory.
        Assert.Equal([alpha.Id, zebra.Id], votes.Keys);
        var zebras = votes[zebra.Id];
        Assert.Equal([papers[0].Id], zebras.Liked.Select(v => v.PaperId));
        Assert.Equal([papers[1].Id], zebras.Disliked.Select(v => v.PaperId));
        Assert.Equal(papers[0].Title, zebras.Liked[0].Title);
        Assert.Equal(vectors[0].Values.ToArray(), zebras.Liked[0].Paper.Values.ToArray());
        Assert.Equal(vectors[1].Values.ToArray(), zebras.Disliked[0].Paper.Values.ToArray());
        var alphas = votes[alpha.Id];
        Assert.Equal([papers[0].Id], alphas.Disliked.Select(v => v.PaperId));
        Assert.Empty(alphas.Liked);
        // One paper voted both ways is one title and one vector in memory, however many readers voted on it, and one
        // row of cosines in a fan-out (its slot); the slots number the voted papers from 0.
        Assert.Same(zebras.Liked[0].Paper, alphas.Disliked[0].Paper);
        Assert.Equal(alphas.Disliked[0].Slot, zebras.Liked[0].Slot);
        Assert.Equal([0, 1], new[] { zebras.Liked[0].Slot, zebras.Disliked[0].Slot }.Order());

        var one = await app.Services.GetRequiredService<RelevanceStore>().VotesAsync(alpha.Id, Ct);
        Assert.Equal([alpha.Id], one.Keys);
        Assert.Equal([papers[0].Id], one[alpha.Id].Disliked.Select(v => v.PaperId));
    }

    private static Task<int> VoteAsync(TestApp app, long subscriber, long paper, int vote, int minutesAgo) =>
        app.ExecuteAsync(
            "insert into reader_votes (subscriber_id, paper_id, vote, voted_at) values (@subscriber, @paper, @vote, now() - make_interval(mins => @minutes))",
            ("subscriber", subscriber), ("paper", paper), ("vote", (short)vote), ("minutes", minutesAgo));

    private static Embedding UnitVector(int dimension)
    {
        var values = new float[384];
        values[dimension] = 1;
        return Embedding.Normalize(values);
    }
}
