using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Inbox;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>A second listing of a day already ingested (a forward, a corrected re-send) is no issue, and the admin sees it and what it holds.</summary>
public sealed class DuplicateListingTests
{
    [Fact]
    public async Task Overview_ACorrectedListingOfADayAlreadyIngested_ListedWithTheIssueAndThePapersItDoesNotHave()
    {
        await using var app = await TestApp.StartAsync();
        var ingestor = app.Services.GetRequiredService<MessageIngestor>();
        var day = new DateOnly(2025, 3, 12);
        var papers = Samples.SamplePapers();
        var first = Samples.ToBytes(Samples.Listing(day, papers.Take(3)));
        var issue = (await ingestor.IngestAsync(new InboundMail(first, first.Length, "imap", "INBOX", 1, 1), Ct)).IssueId;
        // The sender sends the day again with two papers the first copy had left out.
        var corrected = Samples.Listing(day, papers.Take(5));
        corrected.Subject = "Trending papers - Mar 12 (corrected)";
        var correctedBytes = Samples.ToBytes(corrected);
        var outcome = await ingestor.IngestAsync(new InboundMail(correctedBytes, correctedBytes.Length, "imap", "INBOX", 1, 2), Ct);
        Assert.Equal(IngestStatus.Duplicate, outcome.Status);

        using var client = await AdminTestKit.SignedInClientAsync(app);
        using var response = await client.GetAsync("admin", Ct);
        var page = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Trending papers - Mar 12 (corrected)", page, StringComparison.Ordinal);
        Assert.Contains($"an issue of that date was already ingested (issue {issue}); 2 of this copy&#x27;s 5 papers are not in it", page,
            StringComparison.Ordinal);
        Assert.Contains($"href=\"/admin/quarantine/{outcome.InboundMessageId}\"", page, StringComparison.Ordinal);
    }
}
