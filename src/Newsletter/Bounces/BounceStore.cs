using Microsoft.Extensions.Options;
using Newsletter.Database;
using Newsletter.Digests;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Bounces;

/// <summary>A report matched to a delivery, as the admin pages list it.</summary>
public sealed record BounceRow(
    long Id, long DeliveryId, long IssueId, DateOnly? IssueDate, long SubscriberId, string Email, BounceKind Kind,
    string Status, string? Diagnostic, string MatchedBy, DateTimeOffset ReceivedAt, DateTimeOffset? ClearedAt);

/// <summary>
/// The <c>bounces</c> table: one row per delivery report matched to one of our deliveries. A report is matched by the
/// VERP return path it was sent to (<see cref="ReturnPaths"/>), else by the digest's own unsubscribe link in the headers it
/// returns: both signed, so a report cannot be forged for somebody else's address (a Message-ID's numbers can be guessed).
/// A permanent failure marks the delivery failed; once a subscriber has <see cref="BounceOptions.UnknownMailboxLimit"/>
/// 5.1.x failures, or <see cref="BounceOptions.PermanentFailureLimit"/> permanent ones, not yet cleared, an active
/// subscriber becomes bounced and those failures are cleared: a subscriber who comes back starts from zero.
/// </summary>
public sealed class BounceStore(
    NpgsqlDataSource db,
    ReturnPaths returnPaths,
    DigestLinkKeyStore linkKeys,
    SubscriberStore subscribers,
    IOptions<BounceOptions> options,
    TimeProvider clock,
    ILogger<BounceStore> logger)
{
    /// <summary>Records a report in the caller's transaction (the one storing the inbound message); returns the note kept with it.</summary>
    public async Task<string> RecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long inboundId, DeliveryReport report, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(report);
        var recipient = report.Recipients.Count > 0 ? report.Recipients[0] : null;
        var about = $"{report.Action ?? "no action"} ({report.Status}) for {recipient ?? "an unnamed recipient"}";
        if (await MatchAsync(connection, transaction, report, ct) is not { } match)
        {
            return $"a delivery report matching none of our deliveries: {about}";
        }
        var (delivery, matchedBy) = match;
        if (report.Kind is not { } kind)
        {
            return $"a delivery report for delivery {delivery.Id}: {about}";
        }

        // Keyed by the report's Message-ID: the same report fetched again (its inbound row deleted by retention) counts once.
        await using (var seen = new NpgsqlCommand(
            """
            select exists (select from bounces b join inbound_messages m on m.message_id = b.report_message_id
                           where m.id = @inbound and b.delivery_id = @delivery)
            """, connection, transaction))
        {
            seen.Parameters.AddWithValue("inbound", inboundId);
            seen.Parameters.AddWithValue("delivery", delivery.Id);
            if (await seen.ExecuteScalarAsync(ct) is true)
            {
                return $"a delivery report for delivery {delivery.Id} already recorded (the same report, fetched again; not counted twice): {about}";
            }
        }

        var now = clock.GetUtcNow();
        if (kind == BounceKind.Permanent)
        {
            await DeliveryBounces.MarkFailedAsync(connection, transaction, delivery.Id, $"bounced: {report.Status} {report.Diagnostic}".Trim(), now, ct);
        }
        await SubscriberBounces.LockAsync(connection, transaction, delivery.SubscriberId, ct);
        await using (var insert = new NpgsqlCommand(
            """
            insert into bounces (inbound_message_id, delivery_id, subscriber_id, issue_id, kind, status, recipient, diagnostic, matched_by,
                                 received_at, report_message_id)
            values (@inbound, @delivery, @subscriber, @issue, @kind, @status, @recipient, @diagnostic, @matched_by, @now,
                    (select m.message_id from inbound_messages m where m.id = @inbound))
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("inbound", inboundId);
            insert.Parameters.AddWithValue("delivery", delivery.Id);
            insert.Parameters.AddWithValue("subscriber", delivery.SubscriberId);
            insert.Parameters.AddWithValue("issue", delivery.IssueId);
            insert.Parameters.AddWithValue("kind", DbNames.ToDb(kind));
            insert.Parameters.AddWithValue("status", report.Status);
            insert.Parameters.Add(new NpgsqlParameter<string?>("recipient", StoredText.Bounded(recipient, 320)));
            insert.Parameters.Add(new NpgsqlParameter<string?>("diagnostic", StoredText.Bounded(report.Diagnostic, 1000)));
            insert.Parameters.AddWithValue("matched_by", matchedBy);
            insert.Parameters.AddWithValue("now", now);
            await insert.ExecuteNonQueryAsync(ct);
        }
        var note = $"a delivery report for delivery {delivery.Id} (matched by {matchedBy.Replace('_', ' ')}): {about}";
        if (kind == BounceKind.Permanent && await ReachedLimitAsync(connection, transaction, delivery.SubscriberId, ct)
            && await SubscriberBounces.MarkBouncedAsync(connection, transaction, delivery.SubscriberId,
                StoredText.Bounded($"bounced: {report.Status} {report.Diagnostic}".Trim(), 1000)!, now, ct))
        {
            await using var clear = new NpgsqlCommand(
                "update bounces set cleared_at = @now where subscriber_id = @subscriber and cleared_at is null", connection, transaction);
            clear.Parameters.AddWithValue("now", now);
            clear.Parameters.AddWithValue("subscriber", delivery.SubscriberId);
            await clear.ExecuteNonQueryAsync(ct);
            logger.LogWarning("Subscriber {SubscriberId} is bounced after a {Status} report for delivery {DeliveryId}", delivery.SubscriberId, report.Status, delivery.Id);
            note += "; the subscriber is now bounced";
        }
        return note;
    }

    /// <summary>An admin's "re-activate": a bounced subscriber is active again, and their past failures no longer count.</summary>
    public async Task<bool> ReactivateAsync(long subscriberId, CancellationToken ct)
    {
        if (!await subscribers.TransitionAsync(subscriberId, [SubscriberStatus.Bounced], SubscriberStatus.Active, ct))
        {
            return false;
        }
        await using var clear = db.CreateCommand("update bounces set cleared_at = @now where subscriber_id = @subscriber and cleared_at is null");
        clear.Parameters.AddWithValue("now", clock.GetUtcNow());
        clear.Parameters.AddWithValue("subscriber", subscriberId);
        await clear.ExecuteNonQueryAsync(ct);
        return true;
    }

    /// <summary>A subscriber's bounces, the latest first, <paramref name="limit"/> of them after the first <paramref name="offset"/>.</summary>
    public Task<IReadOnlyList<BounceRow>> ForSubscriberAsync(long subscriberId, int limit, int offset, CancellationToken ct) =>
        ListAsync("b.subscriber_id = @id", subscriberId, limit, offset, ct);

    public Task<IReadOnlyList<BounceRow>> ForIssueAsync(long issueId, int limit, CancellationToken ct) =>
        ListAsync("b.issue_id = @id", issueId, limit, 0, ct);

    /// <summary>How many of an issue's bounces were permanent and how many temporary, all of them (a list stops at its limit).</summary>
    public async Task<(long Permanent, long Transient)> CountForIssueAsync(long issueId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select count(*) filter (where kind = 'permanent'), count(*) filter (where kind = 'transient')
            from bounces where issue_id = @id
            """);
        command.Parameters.AddWithValue("id", issueId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private async Task<(BouncedDelivery Delivery, string MatchedBy)?> MatchAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, DeliveryReport report, CancellationToken ct)
    {
        foreach (var address in report.ReturnPaths)
        {
            if (await returnPaths.TryReadAsync(address, ct) is { } deliveryId
                && await DeliveryBounces.FindAsync(connection, transaction, deliveryId, ct) is { } signed)
            {
                return (signed, "return_path");
            }
        }
        foreach (var token in report.UnsubscribeTokens)
        {
            if ((await linkKeys.GetKeysAsync(ct)).TryVerify(token, TokenPurpose.Unsubscribe, out var deliveryId)
                && await DeliveryBounces.FindAsync(connection, transaction, deliveryId, ct) is { } linked)
            {
                return (linked, "digest_link");
            }
        }
        return null;
    }

    private async Task<bool> ReachedLimitAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long subscriberId, CancellationToken ct)
    {
        // Counted by delivery: two reports about one digest are one failure.
        await using var count = new NpgsqlCommand(
            """
            select count(distinct delivery_id) filter (where status like '5.1.%'), count(distinct delivery_id)
            from bounces where subscriber_id = @subscriber and kind = 'permanent' and cleared_at is null
            """, connection, transaction);
        count.Parameters.AddWithValue("subscriber", subscriberId);
        await using var reader = await count.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var settings = options.Value;
        return reader.GetInt64(0) >= settings.UnknownMailboxLimit || reader.GetInt64(1) >= settings.PermanentFailureLimit;
    }

    private async Task<IReadOnlyList<BounceRow>> ListAsync(string where, long id, int limit, int offset, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            $"""
            select b.id, b.delivery_id, b.issue_id, i.issue_date, b.subscriber_id, s.email, b.kind, b.status, b.diagnostic,
                   b.matched_by, b.received_at, b.cleared_at
            from bounces b join subscribers s on s.id = b.subscriber_id join issues i on i.id = b.issue_id
            where {where}
            order by b.received_at desc, b.id desc
            limit @limit offset @offset
            """);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("limit", limit);
        command.Parameters.AddWithValue("offset", offset);
        var rows = new List<BounceRow>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new BounceRow(
                reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetFieldValue<DateOnly>(3),
                reader.GetInt64(4), reader.GetString(5), DbNames.Parse<BounceKind>(reader.GetString(6)), reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetString(9), reader.GetFieldValue<DateTimeOffset>(10),
                reader.IsDBNull(11) ? null : reader.GetFieldValue<DateTimeOffset>(11)));
        }
        return rows;
    }
}
