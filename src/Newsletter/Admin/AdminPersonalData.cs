using System.Data;
using System.Text;
using Npgsql;
using Newsletter.Subscribers;

namespace Newsletter.Admin;

/// <summary>
/// Everything stored about one subscriber: their own row, then one list per table that keeps rows about them, named after
/// the table, and the mail kept about them (<see cref="SubscriberStore.StoredMailAboutSql"/>).
/// </summary>
public sealed record PersonalDataExport(
    long Id, string Email, string Status, string? StatusReason, string Interests, string Format, ReaderChoicesDto Choices,
    DateTimeOffset? WeeklySince, DateTimeOffset? WeeklyUntil, DateTimeOffset CreatedAt, DateTimeOffset? ConfirmedAt, DateTimeOffset UpdatedAt,
    IReadOnlyList<PersonalDelivery> Deliveries,
    IReadOnlyList<PersonalGeneration> DeliveryGenerations,
    IReadOnlyList<PersonalWeeklyDigest> WeeklyDigests,
    IReadOnlyList<PersonalVote> ReaderVotes,
    IReadOnlyList<PersonalBounce> Bounces,
    IReadOnlyList<PersonalMail> InboundMessages,
    IReadOnlyList<PersonalConfirmationMail> ConfirmationMails,
    IReadOnlyList<PersonalLink> SubscriberTokens,
    IReadOnlyList<PersonalFeed> SubscriberFeeds);

/// <summary>One digest row; <see cref="SentPapers"/> in the mail's order, <see cref="HiddenPaperIds"/> the matches moved to the web copy.</summary>
public sealed record PersonalDelivery(
    long Id, long IssueId, DateOnly? IssueDate, DateOnly? WeekOf, int Generation, string Status, int Papers, IReadOnlyList<PersonalPaper> SentPapers,
    long[] HiddenPaperIds, float Score, int Attempts, string? SmtpReply, string? Error, DateTimeOffset CreatedAt, DateTimeOffset? SentAt);

/// <summary>A paper a digest showed; <see cref="SuggestedBecause"/> is null for a keyword match.</summary>
public sealed record PersonalPaper(long Id, string? ArxivId, string? Title, string? SuggestedBecause);

/// <summary>A re-send an admin asked for this subscriber alone.</summary>
public sealed record PersonalGeneration(long IssueId, int Generation, string Scope, string RequestedBy, DateTimeOffset RequestedAt, DateTimeOffset? FannedOutAt);

public sealed record PersonalWeeklyDigest(DateOnly WeekOf, DateTimeOffset EndsAt, long IssueId, int Generation);

public sealed record PersonalVote(long PaperId, string? ArxivId, string Title, int Vote, long? DeliveryId, DateTimeOffset VotedAt);

/// <summary>A report's bounce; <see cref="InboundMessageId"/> is null once the report is deleted (<c>Newsletter:Inbox:ReportRetention</c>).</summary>
public sealed record PersonalBounce(long Id, long DeliveryId, long IssueId, long? InboundMessageId, string Kind, string Status, string? Recipient,
    string? Diagnostic, string MatchedBy, DateTimeOffset ReceivedAt, DateTimeOffset? ClearedAt);

/// <summary>A stored inbound message about the subscriber, <see cref="Message"/> as kept (only a prefix when <see cref="Truncated"/>).</summary>
public sealed record PersonalMail(long Id, string Status, string? FromAddress, string? Subject, string? Reason, DateTimeOffset ReceivedAt,
    bool Truncated, string Message);

public sealed record PersonalConfirmationMail(string Status, string? Reply, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt);

/// <summary>A personal link; only its token's hash is stored, and not exported.</summary>
public sealed record PersonalLink(string Purpose, long? DeliveryId, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? UsedAt);

/// <summary>The subscriber's Atom feed address exists (only its token's hash is stored).</summary>
public sealed record PersonalFeed(DateTimeOffset CreatedAt);

/// <summary>Everything stored about one subscriber, for the export offered before erasing them.</summary>
public sealed class AdminPersonalData(NpgsqlDataSource db)
{
    public async Task<PersonalDataExport?> ExportAsync(long subscriberId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        // One snapshot for every list, so a digest sent meanwhile is in all of them or none.
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        await using var command = new NpgsqlCommand(
            $"""
            select s.id, s.email, s.status, s.status_reason, s.interests, s.format, {SubscriberStore.ChoicesColumns}, s.weekly_since, s.weekly_until,
                   s.created_at, s.confirmed_at, s.updated_at
            from subscribers s where s.id = @id;

            select d.id, d.issue_id, i.issue_date, d.week_of, d.generation, d.status, cardinality(d.paper_ids), d.hidden_ids, d.score, d.attempts,
                   d.smtp_reply, d.error, d.created_at, d.sent_at
            from deliveries d join issues i on i.id = d.issue_id where d.subscriber_id = @id order by d.issue_id, d.generation;

            select d.id, sent.paper_id, p.arxiv_id, p.title, nullif(d.reasons[sent.n], '')
            from deliveries d cross join unnest(d.paper_ids) with ordinality as sent(paper_id, n) left join papers p on p.id = sent.paper_id
            where d.subscriber_id = @id order by d.id, sent.n;

            select issue_id, generation, scope, requested_by, requested_at, fanned_out_at
            from delivery_generations where subscriber_id = @id order by issue_id, generation;

            select week_of, ends_at, issue_id, generation from weekly_digests where subscriber_id = @id order by week_of, issue_id, generation;

            select v.paper_id, p.arxiv_id, p.title, v.vote, v.delivery_id, v.voted_at
            from reader_votes v join papers p on p.id = v.paper_id where v.subscriber_id = @id order by v.voted_at, v.paper_id;

            select id, delivery_id, issue_id, inbound_message_id, kind, status, recipient, diagnostic, matched_by, received_at, cleared_at
            from bounces where subscriber_id = @id order by received_at, id;

            select id, status, from_address, subject, reason, received_at, raw_is_prefix, raw
            from inbound_messages where id in ({SubscriberStore.StoredMailAboutSql}) order by received_at, id;

            select status, reply, created_at, finished_at from confirmation_mails where subscriber_id = @id order by created_at, id;

            select purpose, delivery_id, created_at, expires_at, used_at from subscriber_tokens where subscriber_id = @id order by created_at, purpose;

            select created_at from subscriber_feeds where subscriber_id = @id;
            """, connection, transaction);
        command.Parameters.AddWithValue("id", subscriberId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        var (id, email, status, statusReason, interests, format) = (reader.GetInt64(0), reader.GetString(1), reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4), reader.GetString(5));
        var choices = ReaderChoicesDto.From(SubscriberStore.ReadChoices(reader, 6));
        var (weeklySince, weeklyUntil, createdAt, confirmedAt, updatedAt) = (NullableTime(reader, 11), NullableTime(reader, 12),
            reader.GetFieldValue<DateTimeOffset>(13), NullableTime(reader, 14), reader.GetFieldValue<DateTimeOffset>(15));

        var deliveryRows = await NextRowsAsync(reader, r => (Id: r.GetInt64(0), IssueId: r.GetInt64(1),
            IssueDate: r.IsDBNull(2) ? (DateOnly?)null : r.GetFieldValue<DateOnly>(2), WeekOf: r.IsDBNull(3) ? (DateOnly?)null : r.GetFieldValue<DateOnly>(3),
            Generation: r.GetInt32(4), Status: r.GetString(5), Papers: r.GetInt32(6), Hidden: r.GetFieldValue<long[]>(7), Score: r.GetFloat(8),
            Attempts: r.GetInt32(9), SmtpReply: NullableText(r, 10), Error: NullableText(r, 11), CreatedAt: r.GetFieldValue<DateTimeOffset>(12),
            SentAt: NullableTime(r, 13)), ct);
        var sentPapers = (await NextRowsAsync(reader, r => (DeliveryId: r.GetInt64(0),
            Paper: new PersonalPaper(r.GetInt64(1), NullableText(r, 2), NullableText(r, 3), NullableText(r, 4))), ct))
            .ToLookup(p => p.DeliveryId, p => p.Paper);
        var deliveries = deliveryRows.Select(d => new PersonalDelivery(d.Id, d.IssueId, d.IssueDate, d.WeekOf, d.Generation, d.Status, d.Papers,
            [.. sentPapers[d.Id]], d.Hidden, d.Score, d.Attempts, d.SmtpReply, d.Error, d.CreatedAt, d.SentAt)).ToList();
        var generations = await NextRowsAsync(reader, r => new PersonalGeneration(r.GetInt64(0), r.GetInt32(1), r.GetString(2), r.GetString(3),
            r.GetFieldValue<DateTimeOffset>(4), NullableTime(r, 5)), ct);
        var weeklyDigests = await NextRowsAsync(reader, r => new PersonalWeeklyDigest(r.GetFieldValue<DateOnly>(0), r.GetFieldValue<DateTimeOffset>(1), r.GetInt64(2), r.GetInt32(3)), ct);
        var votes = await NextRowsAsync(reader, r => new PersonalVote(r.GetInt64(0), NullableText(r, 1), r.GetString(2), r.GetInt16(3),
            r.IsDBNull(4) ? null : r.GetInt64(4), r.GetFieldValue<DateTimeOffset>(5)), ct);
        var bounces = await NextRowsAsync(reader, r => new PersonalBounce(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.IsDBNull(3) ? null : r.GetInt64(3), r.GetString(4),
            r.GetString(5), NullableText(r, 6), NullableText(r, 7), r.GetString(8), r.GetFieldValue<DateTimeOffset>(9), NullableTime(r, 10)), ct);
        var mail = await NextRowsAsync(reader, r => new PersonalMail(r.GetInt64(0), r.GetString(1), NullableText(r, 2), NullableText(r, 3),
            NullableText(r, 4), r.GetFieldValue<DateTimeOffset>(5), r.GetBoolean(6), Encoding.UTF8.GetString(r.GetFieldValue<byte[]>(7))), ct);
        var confirmationMails = await NextRowsAsync(reader, r => new PersonalConfirmationMail(r.GetString(0), NullableText(r, 1),
            r.GetFieldValue<DateTimeOffset>(2), NullableTime(r, 3)), ct);
        var links = await NextRowsAsync(reader, r => new PersonalLink(r.GetString(0), r.IsDBNull(1) ? null : r.GetInt64(1),
            r.GetFieldValue<DateTimeOffset>(2), NullableTime(r, 3), NullableTime(r, 4)), ct);
        var feeds = await NextRowsAsync(reader, r => new PersonalFeed(r.GetFieldValue<DateTimeOffset>(0)), ct);

        return new PersonalDataExport(id, email, status, statusReason, interests, format, choices, weeklySince, weeklyUntil, createdAt, confirmedAt, updatedAt,
            deliveries, generations, weeklyDigests, votes, bounces, mail, confirmationMails, links, feeds);
    }

    private static async Task<List<T>> NextRowsAsync<T>(NpgsqlDataReader reader, Func<NpgsqlDataReader, T> read, CancellationToken ct)
    {
        await reader.NextResultAsync(ct);
        var rows = new List<T>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(read(reader));
        }
        return rows;
    }

    private static string? NullableText(NpgsqlDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetString(column);

    private static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int column) =>
        reader.IsDBNull(column) ? null : reader.GetFieldValue<DateTimeOffset>(column);
}
