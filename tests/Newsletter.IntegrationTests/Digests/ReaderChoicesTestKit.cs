using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Newsletter.Inbox;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Digests;

/// <summary>Listings of given days built from the sample's papers, and readers with chosen frequencies.</summary>
internal static class ReaderChoicesTestKit
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static IReadOnlyList<(string Title, string Abstract)> SamplePapers(int from, int count) => [.. Samples.SamplePapers().Skip(from).Take(count)];

    public static IReadOnlyList<string> Titles(IEnumerable<(string Title, string Abstract)> papers) => [.. papers.Select(p => DigestReader.Normalized(p.Title))];

    /// <summary>Stores a listing of <paramref name="day"/> as the inbox would; its daily fan-out is queued.</summary>
    public static async Task<long> IngestAsync(TestApp app, DateOnly day, IEnumerable<(string Title, string Abstract)> papers)
    {
        var bytes = Samples.ToBytes(Samples.Listing(day, papers));
        var outcome = await app.Services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(bytes, bytes.Length, "test"), Ct);
        Assert.Equal(IngestStatus.Ingested, outcome.Status);
        return outcome.IssueId!.Value;
    }

    public static async Task<Subscriber> AddReaderAsync(TestApp app, string email, Func<ReaderChoices, ReaderChoices> choose)
    {
        var subscriber = await app.AddSubscriberAsync(email);
        var store = app.Services.GetRequiredService<SubscriberStore>();
        await store.UpdateChoicesAsync(subscriber.Id, choose(await store.GetChoicesAsync(subscriber.Id, Ct)), Ct);
        return subscriber;
    }

    public static IReadOnlyList<MimeMessage> To(SmtpCapture smtp, string email) =>
        [.. smtp.Messages.Where(m => m.To.Mailboxes.Single().Address == email)];
}
