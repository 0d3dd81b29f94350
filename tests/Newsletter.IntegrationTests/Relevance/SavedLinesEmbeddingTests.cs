using Microsoft.Extensions.DependencyInjection;
using Newsletter.IntegrationTests.Support;
using Newsletter.Relevance;
using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.IntegrationTests.Relevance;

/// <summary>
/// A keyword line is read for meaning soon after its reader saves it, whatever the path, so a fan-out spends its time
/// on the day's papers: real PostgreSQL (its triggers list the saved lines) and the real model in the child process.
/// </summary>
public sealed class SavedLinesEmbeddingTests
{
    [Fact]
    public async Task SavedLines_JobRuns_EachNewLineIsEmbeddedOnceAndOnlyChangedLinesAreListedAgain()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("reader@example.org", "speech recognition");
        await app.AddSubscriberAsync("same@example.org", "speech recognition");
        await app.AddSubscriberAsync("nothing@example.org");
        using (var csv = new StringReader("email,interests\nimported@example.org,diffusion -video\n"))
        {
            Assert.Equal(1, (await app.Services.GetRequiredService<SubscriberCsv>().ImportAsync(csv, Ct)).Created);
        }
        Assert.Equal(["diffusion -video", "speech recognition"], await ListedAsync(app));

        await RunJobAsync(app);

        var lines = await app.ReadAsync("select interests, vector from interest_embeddings order by interests",
            r => (Text: r.GetString(0), Vector: Embedding.FromBytes(r.GetFieldValue<byte[]>(1))));
        Assert.Equal(["diffusion", "speech, recognition"], lines.Select(l => l.Text));
        using (var model = TextEmbedder.CreateMiniLm())
        {
            Assert.True(model.EmbedInterests(InterestQuery.Parse("speech recognition"), Ct)!.Similarity(lines[1].Vector) > 0.9999);
        }
        Assert.Empty(await ListedAsync(app));
        // The process that runs the job never loaded the model: the child did.
        Assert.False(app.Services.GetRequiredService<TextEmbedder>().IsLoaded);

        // A change of status or format lists nothing; a new line is listed and embedded.
        var store = app.Services.GetRequiredService<SubscriberStore>();
        await store.UpdateAsync(reader.Id, "speech recognition", SubscriberStatus.Paused, DigestFormat.Text, Ct);
        Assert.Empty(await ListedAsync(app));
        await store.UpdatePreferencesAsync(reader.Id, "speech synthesis", DigestFormat.Html, Ct);
        Assert.Equal(["speech synthesis"], await ListedAsync(app));
        await RunJobAsync(app);
        Assert.Equal(["diffusion", "speech, recognition", "speech, synthesis"],
            await app.RowsAsync("select interests from interest_embeddings order by interests"));
        Assert.Empty(await ListedAsync(app));
    }

    [Fact]
    public async Task SavedLines_EmbeddingProcessFails_LinesStayListedForTheNextRun()
    {
        await using var app = await TestApp.StartAsync(services: s => s.AddSingleton(new EmbedderCommand("false", [])));
        await app.AddSubscriberAsync("reader@example.org", "speech recognition");

        await RunJobAsync(app);

        Assert.Equal(["speech recognition"], await ListedAsync(app));
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from interest_embeddings"));
    }

    [Fact]
    public async Task UnusedLines_JobRuns_VectorsOfLinesNoSubscriberHasAreForgottenOthersKept()
    {
        // The vector of a deleted reader's line, or of a line a reader changed, stayed in the database for good.
        await using var app = await TestApp.StartAsync();
        var store = app.Services.GetRequiredService<SubscriberStore>();
        var deleted = await app.AddSubscriberAsync("deleted@example.org", "private topic");
        var changed = await app.AddSubscriberAsync("changed@example.org", "old topic");
        await app.AddSubscriberAsync("kept@example.org", "speech recognition");
        var paused = await app.AddSubscriberAsync("paused@example.org", "diffusion");
        await store.UpdateAsync(paused.Id, "diffusion", SubscriberStatus.Paused, DigestFormat.Html, Ct);
        var now = app.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        foreach (var (line, storedAt) in new[]
        {
            ("private topic", now.AddDays(-1)), ("old topic", now.AddDays(-1)), ("speech recognition", now.AddDays(-1)),
            ("diffusion", now.AddDays(-1)),
            // Stored as the job reads the lines (a reader saving it meanwhile): kept for the next run to judge.
            ("saved meanwhile", now.AddMinutes(1)),
        })
        {
            await app.ExecuteAsync("insert into interest_embeddings (interests, model, vector, used_at) values (@text, @model, @vector, @at)",
                ("text", TextEmbedder.InterestsText(InterestQuery.Parse(line))), ("model", RelevanceStore.Model),
                ("vector", Embedding.Normalize(Enumerable.Repeat(1f, 384).ToArray()).ToBytes()), ("at", storedAt));
        }
        await store.DeleteAsync(deleted.Id, Ct);
        await store.UpdatePreferencesAsync(changed.Id, "speech recognition", DigestFormat.Html, Ct);

        var forgotten = await ActivatorUtilities.CreateInstance<UnusedLinesJob>(app.Services).RunAsync(Ct);

        Assert.Equal(2, forgotten);
        Assert.Equal(["diffusion", "saved, meanwhile", "speech, recognition"],
            await app.RowsAsync("select interests from interest_embeddings order by interests"));
    }

    private static Task<List<string>> ListedAsync(TestApp app) =>
        app.RowsAsync("select interests from keyword_lines_to_embed order by interests");

    private static Task RunJobAsync(TestApp app) =>
        ActivatorUtilities.CreateInstance<SavedLinesEmbeddingJob>(app.Services).RunAsync(Ct);
}
