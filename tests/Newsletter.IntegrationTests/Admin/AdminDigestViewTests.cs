using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Newsletter.Digests;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>The digest an admin opens from an issue's deliveries is the one the reader was sent.</summary>
public sealed class AdminDigestViewTests
{
    [Fact]
    public async Task View_ADigestWithSuggestionsAndMatchesLeftForTheWebCopy_ShowsThemAsTheReaderGotThem()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await TestApp.StartAsync(smtp);
        await app.AddSubscriberAsync("reader@lab.example.org", "diffusion", format: Newsletter.Subscribers.DigestFormat.Text);
        var issue = await app.IngestSampleAsync();
        await app.Services.GetRequiredService<FanOutJob>().RunAsync(issue, 1, Ct);
        // As the reader's profile planned it: the last paper is a suggestion, and one match went to the web copy.
        await app.ExecuteAsync(
            """
            update deliveries d set suggested_ids = array[d.paper_ids[cardinality(d.paper_ids)]],
                reasons = array_fill(''::text, array[cardinality(d.paper_ids) - 1]) || array['Like «A paper», which you liked'],
                hidden_ids = array(select ip.paper_id from issue_papers ip where ip.issue_id = d.issue_id and ip.paper_id <> all(d.paper_ids) limit 1)
            """);
        var delivery = await app.ScalarAsync<long>("select id from deliveries");
        var (from, to) = Assert.Single(await app.Services.GetRequiredService<DeliveryLedger>().OpenBatchesAsync(issue, 1, 500, Ct));
        await app.Services.GetRequiredService<SendBatchJob>().RunAsync(issue, 1, from, to, Ct);
        var sent = Assert.Single(smtp.Messages);

        using var admin = await AdminTestKit.SignedInClientAsync(app);
        var shown = new MimeMessage { Body = new TextPart("plain") { Text = await admin.GetStringAsync($"admin/deliveries/{delivery}/digest?part=text", Ct) } };

        Assert.NotEmpty(DigestReader.Suggestions(sent));
        Assert.Equal(DigestReader.Titles(sent), DigestReader.Titles(shown));
        Assert.Equal(DigestReader.Suggestions(sent), DigestReader.Suggestions(shown));
        var sentText = sent.GetTextBody(MimeKit.Text.TextFormat.Plain)!;
        var shownText = shown.GetTextBody(MimeKit.Text.TextFormat.Plain)!;
        Assert.Contains("Like «A paper», which you liked", sentText, StringComparison.Ordinal);
        Assert.Contains("Like «A paper», which you liked", shownText, StringComparison.Ordinal);
        var hiddenLine = Assert.Single(sentText.Split('\n'), line => line.Contains("voted down", StringComparison.Ordinal)).Trim();
        Assert.Contains(hiddenLine, shownText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task View_ReaderChangedTheirLineAndFormatSince_PageSaysItShowsTodaysSettingsAndThatTheLineChanged()
    {
        // The view rendered with today's format and line as if they were the ones the digest went out with.
        await using var app = await TestApp.StartAsync();
        var delivery = (await FannedOutGeneration.CreateAsync(app, subscribers: 1))[0];
        await app.ExecuteAsync("update deliveries set status = 'sent'");
        await app.ExecuteAsync("update subscribers set interests = 'protein folding', format = 'text'");
        using var admin = await AdminTestKit.SignedInClientAsync(app);

        var html = await admin.GetStringAsync($"admin/deliveries/{delivery}/digest", Ct);
        var text = await admin.GetStringAsync($"admin/deliveries/{delivery}/digest?part=text", Ct);

        foreach (var shown in new[] { html, text })
        {
            Assert.Contains("rendered today with the current format (text) and keyword line", shown, StringComparison.Ordinal);
            Assert.Contains("their keyword line changed after this digest was sent", shown, StringComparison.Ordinal);
        }
    }
}
