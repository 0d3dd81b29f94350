using Microsoft.Extensions.Logging;
using MimeKit;
using Newsletter.Bounces;
using Newsletter.Database;
using Npgsql;

namespace Newsletter.Inbox;

/// <summary>Delivery reports and auto-replies: answers to our digests, stored with their verdict and never judged as listings.</summary>
public sealed partial class MessageIngestor
{
    /// <summary>A delivery report or an auto-reply (<see cref="InboundReports.Classify"/>); null for anything else.</summary>
    private InboundReport? AnswerOrNull(MimeMessage message)
    {
        try
        {
            return InboundReports.Classify(message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Hostile input has crashed MIME parsers before: the sender policy and the parser judge it (and quarantine it).
            logger.LogWarning(ex, "Could not tell whether a message is a delivery report or an auto-reply");
            return null;
        }
    }

    /// <summary>
    /// Stores the raw bytes and the verdict (and, for a delivery report, what it changes: the delivery, the subscriber,
    /// a row in bounces) in one transaction, as a listing's are: a crash before the commit leaves the message in the
    /// mailbox for the next poll, and after it the message is seen again as a duplicate and only moved.
    /// </summary>
    private async Task<IngestOutcome> StoreReportAsync(InboundMail mail, byte[] raw, MimeMessage message, InboundReport report, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // Anyone can send what reads as a report or an auto-reply: only its headers and a prefix are kept, as for quarantined mail.
        var stored = await StoreRawAsync(connection, transaction, mail, raw, QuarantinedPrefix(raw, options.Value.QuarantinedBodyBytes), message, trusted: false, ct);
        if (stored.SeenBefore is { } seen)
        {
            await transaction.RollbackAsync(ct);
            return seen;
        }

        var (status, verdict, note) = report switch
        {
            DeliveryReport delivery => (IngestStatus.Report, "report", await bounces.RecordAsync(connection, transaction, stored.Id, delivery, ct)),
            AutoReply reply => (IngestStatus.AutoReply, "auto_reply", $"an automatic reply ({reply.Sign}), ignored"),
            _ => throw new ArgumentOutOfRangeException(nameof(report), report, "Not a kind of report."),
        };
        await using (var finish = new NpgsqlCommand(
            "update inbound_messages set status = @status, reason = @reason, processed_at = @now where id = @id", connection, transaction))
        {
            finish.Parameters.AddWithValue("status", verdict);
            finish.Parameters.AddWithValue("reason", StoredText.Bounded(note, 2000)!);
            finish.Parameters.AddWithValue("now", clock.GetUtcNow());
            finish.Parameters.AddWithValue("id", stored.Id);
            await finish.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        logger.LogInformation("Inbound message {InboundId} is {Note}", stored.Id, note);
        return new IngestOutcome(status, stored.Id, null, note);
    }
}
