using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Hangfire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Bounces;
using Newsletter.Database;
using Newsletter.Digests;
using Newsletter.Hosting;
using Newsletter.Papers;
using Npgsql;

namespace Newsletter.Inbox;

/// <summary>
/// Turns one inbound message into an issue, or records why not. The raw bytes, the verdict and (when accepted) the
/// issue, its papers and the first delivery generation commit in one transaction, so a crash anywhere repeats nothing
/// and loses nothing: the mailbox keeps the message until that commit, and running it again finishes what was undone.
/// </summary>
public sealed partial class MessageIngestor(
    NpgsqlDataSource db,
    SenderPolicy senderPolicy,
    TrendingEmailParser parser,
    BounceStore bounces,
    IBackgroundJobClient jobs,
    IOptions<InboxOptions> options,
    NewsletterMetrics metrics,
    TimeProvider clock,
    ILogger<MessageIngestor> logger)
{
    /// <summary>Ends the Message-ID stored for a message that had none (made from its SHA-256).</summary>
    internal const string SyntheticMessageIdDomain = "@newsletter.invalid";

    /// <summary>At most this much of the header block of refused mail is kept (the header block has no other bound).</summary>
    internal const int MaxKeptHeaderBytes = 256 * 1024;

    internal const string PrefixOnlyReason = "only its headers and the start of its body were kept, too little to judge it again: "
        + "move it from the mailbox's quarantine folder back to the inbox, and the next poll judges the whole message";

    public Task<IngestOutcome> IngestAsync(InboundMail mail, CancellationToken ct) => IngestAsync(mail, scheduleFanOut: true, ct);

    /// <param name="scheduleFanOut">False when the caller schedules the fan-outs of many messages together.</param>
    public async Task<IngestOutcome> IngestAsync(InboundMail mail, bool scheduleFanOut, CancellationToken ct)
    {
        var maxBytes = options.Value.MaxMessageBytes;
        // One array, shared by the MIME parser, the hash and the stored bytes: the mailbox's own when it is a whole one.
        var raw = MemoryMarshal.TryGetArray(mail.Raw, out var whole) && whole is { Offset: 0, Array: { } array } && whole.Count == array.Length
            ? array
            : mail.Raw.ToArray();
        string? rejection = null;
        // Refused before it was read as a listing (unreadable, or by the sender policy): mail from anyone, of which only
        // the headers and a prefix of the body are stored.
        var untrusted = false;
        MimeMessage? message = null;
        if (MimeShape.Refusal(raw) is { } shape)
        {
            rejection = $"not read: {shape}";
            untrusted = true;
        }
        else
        {
            try
            {
                message = TrendingEmailParser.LoadPersistent(raw, ct);
            }
            catch (FormatException ex)
            {
                rejection = $"not a readable email: {ex.Message}";
                untrusted = true;
            }
        }

        if (mail.Size > maxBytes)
        {
            rejection = $"message is {mail.Size:N0} bytes, over {InboxOptions.Section}:MaxMessageBytes ({maxBytes:N0})";
        }

        // Answers to our digests (delivery reports, auto-replies) are recorded as such and never judged as listings.
        if (rejection is null && message is not null && AnswerOrNull(message) is { } report)
        {
            return await StoreReportAsync(mail, raw, message, report, ct);
        }

        // Judged before anything is written, so the raw bytes, the verdict and the issue commit together: one durable
        // commit per message instead of two. Nothing is lost on a crash before it: the message is only moved out of
        // the mailbox after that commit, so the next poll sees it again.
        var trusted = false;
        if (rejection is null && message is not null)
        {
            rejection = await senderPolicy.FindRejectionAsync(message, ct);
            untrusted = rejection is not null;
            trusted = !untrusted;
        }

        ParsedListing? listing = null;
        Exception? parseFailure = null;
        if (rejection is null && message is not null)
        {
            try
            {
                listing = parser.Parse(message, options.Value.ParseTimeout, ct);
                if (listing.Papers.Count == 0)
                {
                    rejection = "not a listing: no papers found";
                }
            }
            catch (ParseTimeoutException ex)
            {
                listing = null;
                rejection = $"could not be parsed within {InboxOptions.Section}:ParseTimeout ({ex.Budget})";
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Hostile input has crashed MIME parsers before; the raw bytes are stored, so quarantine and move on.
                parseFailure = ex;
                rejection = $"could not be parsed: {ex.GetType().Name}: {ex.Message}";
            }
        }

        var kept = untrusted ? QuarantinedPrefix(raw, options.Value.QuarantinedBodyBytes) : raw;
        if (kept.Length < raw.Length)
        {
            rejection += $" (only the headers and the first {options.Value.QuarantinedBodyBytes:N0} bytes of the body are kept)";
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var stored = await StoreRawAsync(connection, transaction, mail, raw, kept, message, trusted, ct);
        if (stored is { Status: "quarantined", RawIsPrefix: true } && !untrusted && mail.Size <= raw.Length)
        {
            // Refused before, when only a prefix was kept, and whole and trusted now (the policy or the cap changed): it
            // replaces the prefix and is judged like new mail.
            await ReplaceRawAsync(connection, transaction, stored.Id, raw, ct);
            stored = stored with { Status = "received", Reason = null };
        }

        if (stored.SeenBefore is { } seen)
        {
            // Whatever happened then stands. The mailbox still moves it out of the way.
            await transaction.RollbackAsync(ct);
            return seen;
        }

        // What the parser had to guess (an unknown charset) is kept with the verdict, whatever it is.
        var notes = listing?.Notes is { Count: > 0 } parserNotes ? string.Join("; ", parserNotes) : null;
        if (notes is not null)
        {
            logger.LogWarning("Inbound message {InboundId}: {Notes}", stored.Id, notes);
        }

        if (rejection is not null || listing is null)
        {
            rejection = notes is null ? rejection : $"{rejection} ({notes})";
            await QuarantineAsync(connection, transaction, stored.Id, rejection, ct);
            await transaction.CommitAsync(ct);
            metrics.MessageQuarantined();
            if (parseFailure is not null)
            {
                logger.LogWarning(parseFailure, "Parsing inbound message {InboundId} failed", stored.Id);
            }
            logger.LogWarning("Inbound message {InboundId} quarantined: {Reason}", stored.Id, rejection);
            return new IngestOutcome(IngestStatus.Quarantined, stored.Id, null, rejection);
        }

        var (issueId, duplicate) = await StoreIssueAsync(connection, transaction, stored.Id, listing, notes, ct);
        await transaction.CommitAsync(ct);
        if (issueId is null)
        {
            logger.LogInformation("Inbound message {InboundId} is a duplicate: {Reason}", stored.Id, duplicate);
            return new IngestOutcome(IngestStatus.Duplicate, stored.Id, null, duplicate);
        }

        if (scheduleFanOut)
        {
            FanOutJob.Queue(jobs, issueId.Value, generation: 1);
        }
        metrics.MessageIngested(message!.Date == DateTimeOffset.MinValue ? TimeSpan.Zero : clock.GetUtcNow() - message.Date);
        logger.LogInformation("Inbound message {InboundId} became issue {IssueId} with {PaperCount} papers",
            stored.Id, issueId, listing.Papers.Count);
        return new IngestOutcome(IngestStatus.Ingested, stored.Id, issueId, null);
    }

    /// <summary>
    /// Judges a quarantined message again from its stored bytes, e.g. after the sender policy was fixed: its status goes
    /// back to 'received' and the same pipeline runs. Returns null when the message is not (or no longer) quarantined.
    /// </summary>
    public async Task<IngestOutcome?> ReingestAsync(long inboundId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            update inbound_messages m set status = 'received', reason = null, processed_at = null
            from (select reason from inbound_messages where id = @id for update) before
            where m.id = @id and m.status = 'quarantined' and not m.raw_is_prefix
            returning m.raw, m.size_bytes, m.source, m.folder, m.uid_validity, m.uid, before.reason
            """);
        command.Parameters.AddWithValue("id", inboundId);
        InboundMail mail;
        string? reasonBefore;
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct))
            {
                return await IsQuarantinedPrefixAsync(inboundId, ct)
                    ? new IngestOutcome(IngestStatus.Quarantined, inboundId, null, PrefixOnlyReason)
                    : null;
            }
            mail = new InboundMail(reader.GetFieldValue<byte[]>(0), reader.GetInt32(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetInt64(4), reader.IsDBNull(5) ? null : reader.GetInt64(5));
            reasonBefore = reader.IsDBNull(6) ? null : reader.GetString(6);
        }
        logger.LogInformation("Inbound message {InboundId} is judged again", inboundId);
        IngestOutcome outcome;
        try
        {
            outcome = await IngestAsync(mail, ct);
        }
        catch (Exception ex)
        {
            // Nothing else looks at a 'received' row: back to the quarantine, where the operator sees it and why.
            await using var back = db.CreateCommand(
                "update inbound_messages set status = 'quarantined', reason = @reason where id = @id and status = 'received'");
            back.Parameters.AddWithValue("id", inboundId);
            back.Parameters.AddWithValue("reason", StoredText.Bounded($"could not be judged again ({ex.GetType().Name}: {ex.Message}); before: {reasonBefore}", 2000)!);
            await back.ExecuteNonQueryAsync(CancellationToken.None);
            throw;
        }
        if (!outcome.BelongsInQuarantine && mail.Source == "imap")
        {
            QuarantineReleaseJob.Queue(jobs, inboundId);
        }
        return outcome;
    }

    private async Task<bool> IsQuarantinedPrefixAsync(long inboundId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("select 1 from inbound_messages where id = @id and status = 'quarantined' and raw_is_prefix");
        command.Parameters.AddWithValue("id", inboundId);
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    /// <summary>The header block (at most <see cref="MaxKeptHeaderBytes"/>) and the first <paramref name="bodyBytes"/> of the body.</summary>
    internal static byte[] QuarantinedPrefix(byte[] raw, int bodyBytes)
    {
        var head = raw.AsSpan(0, Math.Min(raw.Length, MaxKeptHeaderBytes));
        var crlf = head.IndexOf("\r\n\r\n"u8);
        var lf = head.IndexOf("\n\n"u8);
        var headerEnd = (crlf, lf) switch
        {
            ( >= 0, >= 0) => Math.Min(crlf + 4, lf + 2),
            ( >= 0, _) => crlf + 4,
            (_, >= 0) => lf + 2,
            _ => head.Length,
        };
        var keep = headerEnd + (long)bodyBytes;
        return keep >= raw.Length ? raw : raw[..(int)keep];
    }

    private static async Task ReplaceRawAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long inboundId, byte[] raw, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            """
            update inbound_messages set raw = @raw, raw_is_prefix = false, status = 'received', reason = null, processed_at = null
            where id = @id
            """, connection, transaction);
        command.Parameters.AddWithValue("raw", raw);
        command.Parameters.AddWithValue("id", inboundId);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <param name="raw">The message as received: its hash identifies it.</param>
    /// <param name="kept">What is stored of it: <paramref name="raw"/>, or a prefix of it.</param>
    /// <param name="trusted">It passed the sender policy: it takes its Message-ID back from other bytes stored under it.</param>
    private async Task<StoredMessage> StoreRawAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, InboundMail mail, byte[] raw,
        byte[] kept, MimeMessage? message, bool trusted, CancellationToken ct)
    {
        var sha256 = SHA256.HashData(raw);
        var messageId = NormalizedMessageId(message?.MessageId) ?? $"sha256-{Convert.ToHexStringLower(sha256)}{SyntheticMessageIdDomain}";
        if (trusted)
        {
            // Anyone can write a Message-ID: mail stored under this one with other bytes, never ingested as a listing, keeps
            // its row and verdict under an id of its own. A stored prefix is replaced by the whole copy instead (IngestAsync).
            await using var release = new NpgsqlCommand(
                """
                update inbound_messages m set message_id = m.message_id || ' (superseded by a trusted copy: ' || m.id || ')'
                where m.message_id = @message_id and m.sha256 <> @sha256 and not m.raw_is_prefix
                  and not exists (select from issues i where i.inbound_message_id = m.id)
                """, connection, transaction);
            release.Parameters.AddWithValue("message_id", messageId);
            release.Parameters.AddWithValue("sha256", sha256);
            await release.ExecuteNonQueryAsync(ct);
        }

        await using var command = new NpgsqlCommand(
            """
            with inserted as (
                insert into inbound_messages (message_id, sha256, source, folder, uid_validity, uid, from_address, subject,
                                              size_bytes, raw, raw_is_prefix, received_at)
                values (@message_id, @sha256, @source, @folder, @uid_validity, @uid, @from, @subject, @size, @raw, @raw_is_prefix, @now)
                on conflict do nothing
                returning id, status, reason, raw_is_prefix
            )
            select id, status, reason, null::bigint, raw_is_prefix from inserted
            union all
            (select m.id, m.status, m.reason, i.id, m.raw_is_prefix from inbound_messages m left join issues i on i.inbound_message_id = m.id
             where (m.message_id = @message_id or m.sha256 = @sha256) and not exists (select 1 from inserted)
             -- The same bytes before another message under the same Message-ID.
             order by m.sha256 = @sha256 desc
             limit 1)
            """, connection, transaction);
        command.Parameters.AddWithValue("message_id", messageId);
        command.Parameters.AddWithValue("sha256", sha256);
        command.Parameters.AddWithValue("source", mail.Source);
        command.Parameters.AddWithValue("folder", (object?)mail.Folder ?? DBNull.Value);
        command.Parameters.AddWithValue("uid_validity", (object?)mail.UidValidity ?? DBNull.Value);
        command.Parameters.AddWithValue("uid", (object?)mail.Uid ?? DBNull.Value);
        command.Parameters.AddWithValue("from", (object?)StoredText.Bounded(message?.From.Mailboxes.FirstOrDefault()?.Address, 320) ?? DBNull.Value);
        command.Parameters.AddWithValue("subject", (object?)StoredText.Bounded(message?.Subject, 1000) ?? DBNull.Value);
        command.Parameters.AddWithValue("size", (int)Math.Min(mail.Size, int.MaxValue));
        command.Parameters.AddWithValue("raw", kept);
        // Mail over the size cap came as its headers alone: like a prefix, too little to judge it again.
        command.Parameters.AddWithValue("raw_is_prefix", kept.Length < raw.Length || mail.Size > raw.Length);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        // Two copies ingested at once (the poller works on several messages together): the second insert waits for the
        // first to commit and then does nothing, but its own snapshot cannot see that row yet. Asking again does.
        for (var attempt = 1; ; attempt++)
        {
            if (await TryStoreRawAsync(command, ct) is { } stored)
            {
                return stored;
            }
            if (attempt == 2)
            {
                throw new InvalidOperationException($"Inbound message {messageId} was neither stored nor found.");
            }
        }
    }

    private static async Task<StoredMessage?> TryStoreRawAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        return new StoredMessage(
            reader.GetInt64(0), reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetInt64(3),
            reader.GetBoolean(4));
    }

    /// <returns>The new issue; or null, and why, for a listing of a day that already has one.</returns>
    private async Task<(long? IssueId, string? Duplicate)> StoreIssueAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long inboundId, ParsedListing listing, string? notes, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var issueId = await PaperStore.InsertIssueAsync(connection, transaction, inboundId, listing, now, ct);
        string? duplicate = null;
        if (issueId is null)
        {
            // A corrected re-send looks like a forward until its papers are compared: the admin decides what to do about it.
            duplicate = await PaperStore.CompareWithIssueOfItsDateAsync(connection, transaction, listing, ct) is { } stored
                ? $"an issue of that date was already ingested (issue {stored.IssueId}); " + (stored.NotInIssue == 0
                    ? $"each of this copy's {stored.Papers} papers is in it"
                    : $"{stored.NotInIssue} of this copy's {stored.Papers} papers are not in it, and are not sent")
                : "an issue of that date was already ingested";
        }

        await using var finish = new NpgsqlCommand(
            """
            update inbound_messages set status = @status, reason = @reason, processed_at = @now where id = @id
            """, connection, transaction);
        finish.Parameters.AddWithValue("status", issueId is null ? "duplicate" : "ingested");
        var reason = issueId is null ? duplicate + (notes is null ? "" : $" ({notes})") : notes;
        finish.Parameters.AddWithValue("reason", (object?)StoredText.Bounded(reason, 2000) ?? DBNull.Value);
        finish.Parameters.AddWithValue("now", now);
        finish.Parameters.AddWithValue("id", inboundId);
        await finish.ExecuteNonQueryAsync(ct);
        if (issueId is { } id)
        {
            await DeliveryGenerations.InsertFirstAsync(connection, transaction, id, now, ct);
        }
        return (issueId, duplicate);
    }

    private async Task QuarantineAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long inboundId, string? reason, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "update inbound_messages set status = 'quarantined', reason = @reason, processed_at = @now where id = @id", connection, transaction);
        command.Parameters.AddWithValue("reason", (object?)StoredText.Bounded(reason, 2000) ?? DBNull.Value);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("id", inboundId);
        await command.ExecuteNonQueryAsync(ct);
    }

    internal static string? NormalizedMessageId(string? messageId)
    {
        var trimmed = messageId?.Trim().Trim('<', '>').Trim();
        return string.IsNullOrEmpty(trimmed) ? null : StoredText.Bounded(trimmed, 500);
    }

    private sealed record StoredMessage(long Id, string Status, string? Reason, long? IssueId, bool RawIsPrefix)
    {
        /// <summary>For a message stored before, the outcome it had: quarantined, or a duplicate; null for a new row.</summary>
        public IngestOutcome? SeenBefore => Status == "received" ? null
            : new(Status == "quarantined" ? IngestStatus.Quarantined : IngestStatus.Duplicate, Id, IssueId, Reason ?? "already ingested");
    }
}
