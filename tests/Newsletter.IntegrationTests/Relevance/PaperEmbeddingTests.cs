using Microsoft.Extensions.DependencyInjection;
using Newsletter.IntegrationTests.Support;
using Newsletter.Relevance;
using Xunit;

namespace Newsletter.IntegrationTests.Relevance;

/// <summary>What the embedding process stores for a fan-out's papers: real PostgreSQL and the real model, in process.</summary>
public sealed class PaperEmbeddingTests
{
    [Fact]
    public async Task EmbedAsync_OnePaperStoredMeanwhile_KeepsItsVectorAndStoresTheOthersOnce()
    {
        await using var app = await TestApp.BuildAsync();
        var issue = await app.IngestSampleAsync();
        var papers = await app.ReadAsync("select p.id, p.title, p.abstract from issue_papers ip join papers p on p.id = ip.paper_id where ip.issue_id = @issue order by p.id limit 3",
            r => new PaperToEmbed(r.GetInt64(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2)), ("issue", issue));
        // Another process stored the first paper while this one started: its vector stays the one stored.
        var stored = Embedding.Normalize([.. Enumerable.Repeat(1f, 384)]);
        await app.ExecuteAsync("insert into paper_embeddings (paper_id, model, vector) values (@id, @model, @vector)",
            ("id", papers[0].Id), ("model", RelevanceStore.Model), ("vector", stored.ToBytes()));

        var result = await app.Services.GetRequiredService<RelevanceStore>().EmbedAsync(new EmbeddingRequest(papers, [], TimeSpan.Zero), null, Ct);

        Assert.Equal(2, result.Papers);
        var vectors = await app.ReadAsync("select paper_id, vector from paper_embeddings order by paper_id",
            r => (Id: r.GetInt64(0), Vector: Embedding.FromBytes(r.GetFieldValue<byte[]>(1))));
        Assert.Equal(papers.Select(p => p.Id), vectors.Select(v => v.Id));
        Assert.Equal(1.0, vectors[0].Vector.Similarity(stored), 6);
        using var model = TextEmbedder.CreateMiniLm();
        var expected = model.EmbedPapers([.. papers.Skip(1).Select(p => (p.Title, p.Abstract))], Ct);
        Assert.True(expected[0].Similarity(vectors[1].Vector) > 0.9999);
        Assert.True(expected[1].Similarity(vectors[2].Vector) > 0.9999);
    }
}
