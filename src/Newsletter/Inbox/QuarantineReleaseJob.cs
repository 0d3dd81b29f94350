using System.ComponentModel;
using Hangfire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Newsletter.Hosting;
using Npgsql;

namespace Newsletter.Inbox;

/// <summary>
/// Once a quarantined message has been judged again and accepted, moves its IMAP copy from the quarantine folder to
/// the processed one, so the mailbox agrees with the ledger. It is found by Message-ID: its UID changed when it was
/// quarantined. A job, so the admin's request never waits on IMAP and an unreachable server is tried again.
/// </summary>
public sealed class QuarantineReleaseJob(
    NpgsqlDataSource db,
    MailboxOpener mailboxes,
    IOptions<InboxOptions> inbox,
    ILogger<QuarantineReleaseJob> logger)
{
    public static void Queue(IBackgroundJobClient jobs, long inboundId) =>
        jobs.Enqueue<QuarantineReleaseJob>(job => job.RunAsync(inboundId, CancellationToken.None));

    [AutomaticRetry(Attempts = 5)]
    [DisplayName("Move inbound message {0} out of quarantine")]
    public async Task RunAsync(long inboundId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("select source, status, message_id from inbound_messages where id = @id");
        command.Parameters.AddWithValue("id", inboundId);
        string source, status, messageId;
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct))
            {
                return;
            }
            (source, status, messageId) = (reader.GetString(0), reader.GetString(1), reader.GetString(2));
        }

        if (source != "imap" || status == "quarantined" || !string.IsNullOrEmpty(inbox.Value.DropFolder))
        {
            return; // Nothing in an IMAP quarantine folder to move, or it still belongs there.
        }
        if (messageId.EndsWith(MessageIngestor.SyntheticMessageIdDomain, StringComparison.Ordinal))
        {
            logger.LogWarning("Inbound message {InboundId} has no Message-ID to find it by; its copy stays in the quarantine folder", inboundId);
            return;
        }

        await using var mailbox = await mailboxes.OpenImapAsync(ct);
        var moved = await mailbox.MoveOutOfQuarantineAsync(messageId, ct);
        logger.LogInformation("Inbound message {InboundId}: {Moved} cop(ies) moved from quarantine to processed", inboundId, moved);
    }
}
