using Newsletter.Inbox;

namespace Newsletter.Tests.Inbox;

/// <summary>How a backlog is split into downloads: bounded in count and bytes, in order, nothing left out.</summary>
public sealed class InboxPollerChunkTests
{
    private const long Cap = 25 * 1024 * 1024;

    private static MailboxItem Item(int uid, long size) => new(uid.ToString(System.Globalization.CultureInfo.InvariantCulture), size, uid);

    [Fact]
    public void Chunks_LargeBacklogOfSmallMessages_FiftyPerDownloadInOrder()
    {
        var items = Enumerable.Range(1, 120).Select(uid => Item(uid, 300_000)).ToList();

        var chunks = InboxPoller.Chunks(items, Cap).ToList();

        Assert.Equal([50, 50, 20], chunks.Select(c => c.Count));
        Assert.Equal(items, chunks.SelectMany(c => c));
    }

    [Fact]
    public void Chunks_MessagesNearTheCap_SplitBeforeTheByteBudgetIsExceeded()
    {
        var items = Enumerable.Range(1, 5).Select(uid => Item(uid, 20L * 1024 * 1024)).ToList();

        var chunks = InboxPoller.Chunks(items, Cap).ToList();

        // 32 MB per download: each 20 MB message goes alone.
        Assert.Equal(5, chunks.Count);
        Assert.All(chunks, c => Assert.Single(c));
    }

    [Fact]
    public void Chunks_MessagesOverTheCap_CountOnlyForTheirHeaders()
    {
        var items = Enumerable.Range(1, 10).Select(uid => Item(uid, 100L * 1024 * 1024)).ToList();

        var chunk = Assert.Single(InboxPoller.Chunks(items, Cap));

        Assert.Equal(10, chunk.Count);
    }

    [Fact]
    public void Chunks_EmptyInbox_NoChunks() =>
        Assert.Empty(InboxPoller.Chunks([], Cap));
}
