using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Hosting;
using Newsletter.IntegrationTests.Support;
using Newsletter.Relevance;
using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.IntegrationTests.Relevance;

/// <summary>
/// A fan-out has what it is missing embedded by a child process (<c>newsletter embed</c>), so the process that plans
/// and sends never loads the model: real PostgreSQL, SMTP and the real model in the child.
/// </summary>
public sealed class EmbeddingProcessTests
{
    [Fact]
    public async Task FanOut_NewIssueAndNewLine_ChildStoresTheVectorsTheModelWouldGiveAndTheAppNeverLoadsIt()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        await app.AddSubscriberAsync("reader@example.org", "diffusion");
        // No paper of the sample says "speech": this reader's digest is what the line, read for meaning, suggests.
        await app.AddSubscriberAsync("speech@example.org", "speech recognition");

        // A third of the sample, enough papers for the closest to stand out, fewer for the test to embed twice.
        var issueId = await app.IngestListingAsync(new DateOnly(2025, 3, 11), Samples.SamplePapers().Take(24));
        await app.Smtp.WaitForMessagesAsync(2, cancellationToken: Ct);
        var digest = app.Smtp.Messages.Single(m => m.To.Mailboxes.Single().Address == "speech@example.org");

        var papers = await app.ReadAsync("select p.title, p.abstract, e.vector from issue_papers ip join papers p on p.id = ip.paper_id "
            + "left join paper_embeddings e on e.paper_id = p.id where ip.issue_id = @issue",
            r => (Title: r.GetString(0), Abstract: r.GetString(1), Vector: r.IsDBNull(2) ? null : Embedding.FromBytes(r.GetFieldValue<byte[]>(2))),
            ("issue", issueId));
        Assert.NotEmpty(papers);
        Assert.All(papers, p => Assert.NotNull(p.Vector));
        var lines = await app.ReadAsync("select interests, vector from interest_embeddings order by interests",
            r => (Text: r.GetString(0), Vector: Embedding.FromBytes(r.GetFieldValue<byte[]>(1))));
        Assert.Equal(["diffusion", "speech, recognition"], lines.Select(l => l.Text));
        // The process that planned and sent the digest (and serves the site) never loaded the model.
        Assert.False(app.Services.GetRequiredService<TextEmbedder>().IsLoaded);

        // The vectors are the model's, as an in-process embedding would have stored them: the ranking is unchanged.
        using var model = TextEmbedder.CreateMiniLm();
        var expected = model.EmbedPapers([.. papers.Select(p => (p.Title, (string?)p.Abstract))], Ct);
        for (var i = 0; i < papers.Count; i++)
        {
            Assert.True(expected[i].Similarity(papers[i].Vector!) > 0.9999, $"paper {papers[i].Title}");
        }
        Assert.True(model.EmbedInterests(InterestQuery.Parse("diffusion"), Ct)!.Similarity(lines[0].Vector) > 0.9999);
        Assert.True(model.EmbedInterests(InterestQuery.Parse("speech recognition"), Ct)!.Similarity(lines[1].Vector) > 0.9999);
        Assert.Empty(DigestReader.Titles(digest));
        Assert.NotEmpty(DigestReader.Suggestions(digest));
    }

    [Fact]
    public async Task FanOut_EmbeddingProcessFails_DigestHoldsTheKeywordMatchesAndNoVectorIsStored()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await TestApp.StartAsync(smtp: smtp, role: ProcessRole.All,
            services: s => s.AddSingleton(new EmbedderCommand("false", [])));
        await app.AddSubscriberAsync("reader@example.org", "diffusion");

        var issueId = await app.IngestSamplePapersSayingAsync("diffusion");
        var digest = (await smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0].Parse();

        var expected = Samples.SamplePapers().Where(p => Regex.IsMatch($"{p.Title} {p.Abstract}", @"\bdiffusions?\b", RegexOptions.IgnoreCase))
            .Select(p => DigestReader.Normalized(p.Title)).Order(StringComparer.Ordinal);
        Assert.Equal(expected, DigestReader.Titles(digest).Order(StringComparer.Ordinal));
        Assert.Empty(DigestReader.Suggestions(digest));
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from paper_embeddings"));
        // The server's 250 comes before the ledger records it.
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(issueId, expectedRows: 1), "the digest to be recorded");
        Assert.Equal("sent", (await app.Ledger.StatusByEmailAsync(issueId, 1))["reader@example.org"]);
    }
}
