using Microsoft.Extensions.DependencyInjection;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Support;
using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.IntegrationTests.Web;

/// <summary>The manage page previews the reader's interests against the latest issue, whichever issue that is now.</summary>
public sealed class ManagePreviewTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ManagePage_NewerIssueArrives_SameInterestsPreviewTheNewerIssue()
    {
        await using var app = await TestApp.StartAsync();
        await app.IngestSampleAsync();
        var reader = await app.AddSubscriberAsync("reader@example.org", "diffusion");
        var token = await app.Services.GetRequiredService<SubscriberTokens>().MintAsync(reader.Id, TokenPurpose.Manage, null, Ct);
        using var client = app.CreateClient();
        Assert.Contains("papers of the latest issue (Trending papers - Mar 11) match.", await client.GetStringAsync($"manage/{token}", Ct), StringComparison.Ordinal);

        var listing = Samples.ToBytes(Samples.Listing(new DateOnly(2025, 3, 12), Samples.SamplePapers().Take(3)));
        var outcome = await app.Services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(listing, listing.Length, "test"), Ct);
        Assert.Equal(IngestStatus.Ingested, outcome.Status);

        // The page looks for a newer issue at most once a second.
        await Eventually.WaitAsync(async () => (await client.GetStringAsync($"manage/{token}", Ct)).Contains("(Trending papers - Mar 12)", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "the preview of the newer issue", Ct);
    }
}
