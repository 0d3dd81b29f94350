using System.ComponentModel;
using Hangfire;
using MailKit;
using MailKit.Net.Imap;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Newsletter.Database;
using Newsletter.Digests;
using Newsletter.Hosting;
using Npgsql;

namespace Newsletter.Inbox;

/// <summary>
/// Reads new mail and hands each message to the <see cref="MessageIngestor"/>; only once its outcome is committed is a
/// message moved out of the inbox. Runs as a Hangfire recurring job (and early when IDLE reports new mail); a
/// PostgreSQL advisory lock keeps it single-flight across every process, since Hangfire's own locks can expire.
/// </summary>
public sealed class InboxPoller(
    NpgsqlDataSource db,
    MailboxOpener mailboxes,
    MessageIngestor ingestor,
    IBackgroundJobClient jobs,
    IOptions<InboxOptions> options,
    ILogger<InboxPoller> logger)
{
    public const string RecurringJobId = "inbox-poll";

    // A backlog is fetched 50 messages (at most 32 MB) per command and ingested 4 at a time.
    internal const int ChunkMessages = 50;
    internal const long ChunkBytes = 32L * 1024 * 1024;
    private const int IngestParallelism = 4;

    /// <summary>Hangfire's entry point: a poll that could not deal with every message shows as a failed job.</summary>
    [AutomaticRetry(Attempts = 0)] // The next scheduled poll is the retry.
    [DisplayName("Poll the inbox")]
    public async Task RunAsync(CancellationToken ct)
    {
        var result = await PollAsync(ct);
        if (result.Failed > 0)
        {
            throw new InboxPollException($"{result.Failed} message(s) could not be dealt with and stay in the inbox for the next poll; see the log.");
        }
    }

    /// <summary>
    /// Polls, one poll at a time across every process. A poll started while another runs (IDLE saw new mail, which the
    /// running one may have listed too early to see) waits and polls once it ends; a poll started while one already
    /// waits leaves it to that one, whose listing of the inbox is still to come.
    /// </summary>
    public async Task<PollResult> PollAsync(CancellationToken ct)
    {
        await using var lockConnection = await db.OpenConnectionAsync(ct);
        if (!await AdvisoryLocks.TryTakeAsync(lockConnection, LockSpace.InboxPoll, PollLock, ct))
        {
            if (!await AdvisoryLocks.TryTakeAsync(lockConnection, LockSpace.InboxPoll, NextPollLock, ct))
            {
                logger.LogDebug("A poll is running and another waits to follow it");
                return PollResult.Skipped;
            }
            try
            {
                logger.LogDebug("A poll is running; this one follows it");
                await AdvisoryLocks.TakeAsync(lockConnection, LockSpace.InboxPoll, PollLock, ct);
            }
            finally
            {
                // Only once this poll holds the poll's lock: a poll started from now on waits for it to end.
                await AdvisoryLocks.ReleaseUnlessSessionEndedAsync(lockConnection, LockSpace.InboxPoll, NextPollLock);
            }
        }

        try
        {
            return await PollLockedAsync(ct);
        }
        finally
        {
            await AdvisoryLocks.ReleaseUnlessSessionEndedAsync(lockConnection, LockSpace.InboxPoll, PollLock);
        }
    }

    // The two locks of the inbox: the poll's own, and the one a poll waiting to follow it holds.
    private const long PollLock = 0;
    private const long NextPollLock = 1;

    private async Task<PollResult> PollLockedAsync(CancellationToken ct)
    {
        var result = await PollMailboxAsync(await mailboxes.OpenAsync(ct), ct);
        return await mailboxes.OpenReportsAsync(ct) is { } reports ? result + await PollMailboxAsync(reports, ct) : result;
    }

    private async Task<PollResult> PollMailboxAsync(IMailbox opened, CancellationToken ct)
    {
        await using var mailbox = opened;
        var items = await mailbox.ListNewAsync(ct);
        var maxBytes = options.Value.MaxMessageBytes;
        int ingested = 0, duplicates = 0, quarantined = 0, failed = 0, reports = 0, autoReplies = 0;
        MailboxItem? doneSoFar = null;
        var chunks = Chunks(items, maxBytes).ToList();
        // The next chunk downloads while this one is ingested: Dovecot and PostgreSQL work at the same time. The IMAP
        // connection still carries one command at a time: a chunk moves only once the next download has finished.
        var download = chunks.Count > 0 ? mailbox.DownloadAsync(chunks[0], maxBytes, ct) : null;
        try
        {
            for (var c = 0; c < chunks.Count; c++)
            {
                var chunk = chunks[c];
                IReadOnlyList<InboundMail?> mails;
                try
                {
                    mails = await download!;
                    download = null;
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    // Nothing of this chunk was stored: it stays in the inbox, and so does the rest, for the next poll.
                    download = null;
                    failed += chunk.Count;
                    logger.LogError(ex, "Messages {First}-{Last} could not be downloaded; they stay in the inbox", chunk[0].Id, chunk[^1].Id);
                    break;
                }

                var ingesting = IngestAllAsync(chunk, mails, ct);
                if (c + 1 < chunks.Count)
                {
                    download = mailbox.DownloadAsync(chunks[c + 1], maxBytes, ct);
                }
                var results = await ingesting;
                // Committed, so their fan-outs can start; DeliveryRecoveryJob queues any that a crash here leaves behind.
                FanOutJob.QueueFirstGenerations(jobs, results.Where(r => r.Outcome is { Status: IngestStatus.Ingested, IssueId: not null })
                    .Select(r => r.Outcome!.IssueId!.Value).ToList());
                await Settled(download);

                // Only committed outcomes move; a message that failed stays in the inbox for the next poll.
                var moved = true;
                try
                {
                    await mailbox.MoveAsync(ItemsWhere(chunk, results, r => r.Outcome is { BelongsInQuarantine: false }), quarantine: false, ct);
                    await mailbox.MoveAsync(ItemsWhere(chunk, results, r => r.Outcome is { BelongsInQuarantine: true }), quarantine: true, ct);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    // Stored, but still in the inbox: the next poll finds them in the ledger and only moves them.
                    moved = false;
                    logger.LogError(ex, "Messages {First}-{Last} were ingested but could not be moved out of the inbox", chunk[0].Id, chunk[^1].Id);
                }

                for (var i = 0; i < chunk.Count; i++)
                {
                    var (outcome, error) = results[i];
                    if (error is not null || (!moved && outcome is not null))
                    {
                        failed++;
                        if (error is not null)
                        {
                            logger.LogError(error, "Message {MailboxItem} could not be ingested; it stays in the inbox", chunk[i].Id);
                        }
                        continue;
                    }
                    switch (outcome?.Status)
                    {
                        case IngestStatus.Ingested: ingested++; break;
                        case IngestStatus.Duplicate: duplicates++; break;
                        case IngestStatus.Quarantined: quarantined++; break;
                        case IngestStatus.Report: reports++; break;
                        case IngestStatus.AutoReply: autoReplies++; break;
                    }
                    // The saved progress stops before the first failure, so the next poll retries it.
                    if (failed == 0)
                    {
                        doneSoFar = chunk[i];
                    }
                }

                if (!moved || results.Any(r => r.Error is IOException or ImapProtocolException or ServiceNotConnectedException))
                {
                    break; // The connection is gone: the rest waits for the next poll.
                }
            }
        }
        finally
        {
            // A download started for a chunk the loop did not reach: its messages stay in the inbox for the next poll.
            await Settled(download);
        }

        await mailbox.SaveProgressAsync(doneSoFar, ct);
        var result = new PollResult(ingested, duplicates, quarantined, failed, reports, autoReplies);
        if (items.Count > 0)
        {
            logger.LogInformation(
                "Inbox poll: {Ingested} ingested, {Duplicates} duplicate, {Quarantined} quarantined, {Reports} delivery reports, {AutoReplies} auto-replies, {Failed} failed",
                ingested, duplicates, quarantined, reports, autoReplies, failed);
        }
        return result;
    }

    /// <summary>
    /// Ingests a chunk's messages a few at a time: each waits mostly on its commits, so overlapping them keeps both the
    /// CPU (parsing) and PostgreSQL (group commit) busy. Each outcome is independent; one failure does not stop the rest.
    /// </summary>
    private async Task<(IngestOutcome? Outcome, Exception? Error)[]> IngestAllAsync(
        IReadOnlyList<MailboxItem> chunk, IReadOnlyList<InboundMail?> mails, CancellationToken ct)
    {
        var results = new (IngestOutcome?, Exception?)[chunk.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, chunk.Count), new ParallelOptions { MaxDegreeOfParallelism = IngestParallelism, CancellationToken = ct },
            async (i, token) =>
            {
                if (mails[i] is not { } mail)
                {
                    return; // Gone from the mailbox since it was listed.
                }
                try
                {
                    results[i] = (await ingestor.IngestAsync(mail, scheduleFanOut: false, token), null);
                }
                catch (Exception ex) when (!token.IsCancellationRequested)
                {
                    results[i] = (null, ex);
                }
            });
        return results;
    }

    /// <summary>Waits for a download without taking its outcome: whoever uses the result deals with its failure.</summary>
    private static async Task Settled(Task? download)
    {
        if (download is not null)
        {
            await Task.WhenAny(download);
            _ = download.Exception; // Observed: a failure here is reported where the result is used, or not at all.
        }
    }

    private static List<MailboxItem> ItemsWhere(IReadOnlyList<MailboxItem> chunk, (IngestOutcome? Outcome, Exception? Error)[] results,
        Func<(IngestOutcome? Outcome, Exception? Error), bool> predicate) =>
        chunk.Where((_, i) => predicate(results[i])).ToList();

    /// <summary>Consecutive items, at most <see cref="ChunkMessages"/> and (for whole downloads) <see cref="ChunkBytes"/> at a time.</summary>
    internal static IEnumerable<IReadOnlyList<MailboxItem>> Chunks(IReadOnlyList<MailboxItem> items, long maxMessageBytes)
    {
        var chunk = new List<MailboxItem>();
        long bytes = 0;
        foreach (var item in items)
        {
            // Over the cap only the headers are fetched.
            var size = item.Size <= maxMessageBytes ? item.Size : 0;
            if (chunk.Count > 0 && (chunk.Count == ChunkMessages || bytes + size > ChunkBytes))
            {
                yield return chunk;
                chunk = [];
                bytes = 0;
            }
            chunk.Add(item);
            bytes += size;
        }
        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }
}

public sealed record PollResult(int Ingested, int Duplicates, int Quarantined, int Failed, int Reports = 0, int AutoReplies = 0)
{
    public static PollResult Skipped { get; } = new(0, 0, 0, 0);

    /// <summary>Two folders' results together.</summary>
    public static PollResult operator +(PollResult left, PollResult right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new(left.Ingested + right.Ingested, left.Duplicates + right.Duplicates, left.Quarantined + right.Quarantined,
            left.Failed + right.Failed, left.Reports + right.Reports, left.AutoReplies + right.AutoReplies);
    }
}

public sealed class InboxPollException(string message) : Exception(message);

/// <summary>Opens the configured mailbox: the drop folder when one is set, IMAP otherwise.</summary>
public sealed class MailboxOpener(IOptions<InboxOptions> inbox, IOptions<ImapOptions> imap, NpgsqlDataSource db, TimeProvider clock)
{
    public async Task<IMailbox> OpenAsync(CancellationToken ct) =>
        inbox.Value.DropFolder is { Length: > 0 } folder
            ? new DropFolderMailbox(folder)
            : await OpenImapAsync(ct);

    public Task<ImapMailbox> OpenImapAsync(CancellationToken ct) => ImapMailbox.OpenAsync(imap.Value, db, clock, ct);

    /// <summary>The folder delivery reports arrive in when it is not the inbox; null when it is (or with a drop folder).</summary>
    public async Task<IMailbox?> OpenReportsAsync(CancellationToken ct) =>
        inbox.Value.DropFolder is not { Length: > 0 } && imap.Value.ReportsFolder is { Length: > 0 } folder && folder != imap.Value.Folder
            ? await ImapMailbox.OpenAsync(imap.Value.Reading(folder), db, clock, ct)
            : null;
}
