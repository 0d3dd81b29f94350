using System.ComponentModel;
using Hangfire;
using MailKit;
using MailKit.Net.Imap;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
    IOptions<InboxOptions> options,
    ILogger<InboxPoller> logger)
{
    public const string RecurringJobId = "inbox-poll";
    private const long PollLockKey = 0x4E65_7773_506F_6C6C;

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

    public async Task<PollResult> PollAsync(CancellationToken ct)
    {
        await using var lockConnection = await db.OpenConnectionAsync(ct);
        if (!await TryLockAsync(lockConnection, ct))
        {
            logger.LogDebug("Another process is polling the inbox");
            return PollResult.Skipped;
        }

        try
        {
            return await PollLockedAsync(ct);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("select pg_advisory_unlock(@key)", lockConnection);
            unlock.Parameters.AddWithValue("key", PollLockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private async Task<PollResult> PollLockedAsync(CancellationToken ct)
    {
        await using var mailbox = await mailboxes.OpenAsync(ct);
        var items = await mailbox.ListNewAsync(ct);
        int ingested = 0, duplicates = 0, quarantined = 0, failed = 0;
        MailboxItem? doneSoFar = null;
        foreach (var item in items)
        {
            try
            {
                var mail = await mailbox.DownloadAsync(item, options.Value.MaxMessageBytes, ct);
                var outcome = await ingestor.IngestAsync(mail, ct);
                await mailbox.MoveAsync(item, outcome.BelongsInQuarantine, ct);
                switch (outcome.Status)
                {
                    case IngestStatus.Ingested: ingested++; break;
                    case IngestStatus.Duplicate: duplicates++; break;
                    case IngestStatus.Quarantined: quarantined++; break;
                }
                if (failed == 0)
                {
                    doneSoFar = item;
                }
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // The message stays in the inbox and the saved progress stops before it, so the next poll retries it.
                failed++;
                logger.LogError(ex, "Message {MailboxItem} could not be ingested; it stays in the inbox", item.Id);
                if (ex is IOException or ImapProtocolException or ServiceNotConnectedException or OperationCanceledException)
                {
                    break; // The connection is gone: the rest waits for the next poll.
                }
            }
        }

        await mailbox.SaveProgressAsync(doneSoFar, ct);
        var result = new PollResult(ingested, duplicates, quarantined, failed);
        if (items.Count > 0)
        {
            logger.LogInformation("Inbox poll: {Ingested} ingested, {Duplicates} duplicate, {Quarantined} quarantined, {Failed} failed",
                ingested, duplicates, quarantined, failed);
        }
        return result;
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("select pg_try_advisory_lock(@key)", connection);
        command.Parameters.AddWithValue("key", PollLockKey);
        return await command.ExecuteScalarAsync(ct) is true;
    }
}

public sealed record PollResult(int Ingested, int Duplicates, int Quarantined, int Failed)
{
    public static PollResult Skipped { get; } = new(0, 0, 0, 0);
}

public sealed class InboxPollException(string message) : Exception(message);

/// <summary>Opens the configured mailbox: the drop folder when one is set, IMAP otherwise.</summary>
public sealed class MailboxOpener(IOptions<InboxOptions> inbox, IOptions<ImapOptions> imap, NpgsqlDataSource db, TimeProvider clock)
{
    public async Task<IMailbox> OpenAsync(CancellationToken ct) =>
        inbox.Value.DropFolder is { Length: > 0 } folder
            ? new DropFolderMailbox(folder)
            : await ImapMailbox.OpenAsync(imap.Value, db, clock, ct);
}
