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

    [Fact]
    public async Task InterestsWithAControlCharacter_PreviewAndSave_SayWhereItIsInsteadOfFailing()
    {
        await using var app = await TestApp.StartWithSmtpAsync();
        var reader = await app.AddSubscriberAsync("reader@example.org", "diffusion");
        // A digest has gone out: the issue's papers are read for meaning, so a preview reads the typed line for meaning too.
        await app.IngestSamplePapersSayingAsync("diffusion");
        await app.Smtp.WaitForMessagesAsync(1, cancellationToken: Ct);
        var token = await app.Services.GetRequiredService<SubscriberTokens>().MintAsync(reader.Id, TokenPurpose.Manage, null, Ct);
        using var client = app.CreateClient();

        using var preview = await client.GetAsync("preview?interests=robot%00arm", Ct);
        var previewJson = await preview.Content.ReadAsStringAsync(Ct);
        using var saved = await client.PostAsync($"manage/{token}", new FormUrlEncodedContent(
            [new("Interests", "robot\u007Farm"), new("Format", "Html"), new("Suggestions", "5"), new("Frequency", "Daily"),
             new("Weekday", "Monday"), new("TimeZone", ""), new("NoRepeats", "true")]), Ct);
        var savedPage = System.Net.WebUtility.HtmlDecode(await saved.Content.ReadAsStringAsync(Ct));

        Assert.Equal(System.Net.HttpStatusCode.OK, preview.StatusCode);
        Assert.Contains("invisible control character (U+0000) at character 6", previewJson, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, saved.StatusCode);
        Assert.Contains("invisible control character (U+007F) at character 6", savedPage, StringComparison.Ordinal);
        Assert.Equal("diffusion", await app.ScalarAsync<string>("select interests from subscribers"));
    }
}
