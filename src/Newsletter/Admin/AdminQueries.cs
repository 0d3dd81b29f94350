using System.Text.Json;
using Npgsql;
using Newsletter.Database;
using Newsletter.Digests;

namespace Newsletter.Admin;

/// <param name="DeliveriesByStatus">Readers by the status of their latest delivery of the issue (a re-send's row stands for
/// the earlier ones), so each reader counts once.</param>
public sealed record IssueRow(long Id, DateOnly? IssueDate, string Subject, int PaperCount, DateTimeOffset CreatedAt, int Generations,
    IReadOnlyDictionary<string, long> DeliveriesByStatus);

public sealed record DeliveryRow(long Id, long SubscriberId, string Email, int Generation, string Status, int Attempts, int PaperCount,
    string? SmtpReply, string? Error, DateTimeOffset CreatedAt, DateTimeOffset? SentAt);

public sealed record DeliveryDetail(long Id, long IssueId, long SubscriberId, string Email, string Interests, string Format, int Generation,
    string Status, long[] PaperIds)
{
    /// <summary>The reader's date a weekly digest was for; null for a daily one.</summary>
    public DateOnly? WeekOf { get; init; }

    /// <summary>What the reader's profile decided at the fan-out: suggestions, matches left for the web copy, reasons.</summary>
    public DeliveryRelevance Relevance { get; init; } = DeliveryRelevance.None;

    /// <summary>The reader's keyword line changed after this digest was made (migration 0024's interests_after_delivery).</summary>
    public bool LineChangedSince { get; init; }
}

public sealed record InboundRow(long Id, string Status, string? FromAddress, string? Subject, string? Reason, int SizeBytes,
    DateTimeOffset ReceivedAt);

/// <summary>What the admin pages and API read: the ledger, issues and the inbox, shaped for display.</summary>
public sealed class AdminQueries(NpgsqlDataSource db)
{
    /// <summary>Every delivery status as stored, in the order the admin pages show them.</summary>
    public static readonly string[] DeliveryStatuses = [.. Enum.GetValues<DeliveryStatus>().Select(DbNames.ToDb)];

    /// <summary>What the issue page and the API say about a status filter that is no delivery status.</summary>
    public static string NotADeliveryStatus(string? status) => $"'{status}' is not a delivery status: {string.Join(", ", DeliveryStatuses)}.";

    public async Task<IReadOnlyList<IssueRow>> LatestIssuesAsync(int limit, int offset, long? issueId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select i.id, i.issue_date, i.subject, i.paper_count, i.created_at,
                   (select count(*)::int from delivery_generations g where g.issue_id = i.id),
                   coalesce((select jsonb_object_agg(status, n) from (
                       select latest.status, count(*) as n from (
                           select distinct on (d.subscriber_id) d.status from deliveries d where d.issue_id = i.id
                           order by d.subscriber_id desc, d.generation desc) latest
                       group by latest.status) c), '{}'::jsonb)::text
            from issues i
            where @issue::bigint is null or i.id = @issue
            order by i.created_at desc, i.id desc limit @limit offset @offset
            """);
        command.Parameters.Add(new NpgsqlParameter<long?>("issue", issueId));
        command.Parameters.AddWithValue("limit", limit);
        command.Parameters.AddWithValue("offset", offset);
        return await command.ReadAllAsync(reader => new IssueRow(
            reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateOnly>(1), reader.GetString(2),
            reader.GetInt32(3), reader.GetFieldValue<DateTimeOffset>(4), reader.GetInt32(5),
            JsonSerializer.Deserialize<Dictionary<string, long>>(reader.GetString(6)) ?? []), ct);
    }

    public async Task<IssueRow?> GetIssueAsync(long issueId, CancellationToken ct) =>
        await LatestIssuesAsync(1, 0, issueId, ct) is [var issue] ? issue : null;

    /// <summary>An issue's deliveries, newest generation first; filter by status, generation and part of the address.</summary>
    public async Task<IReadOnlyList<DeliveryRow>> DeliveriesAsync(long issueId, DeliveryStatus? status, int? generation, string? email, int limit, int offset,
        CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select d.id, d.subscriber_id, s.email, d.generation, d.status, d.attempts, cardinality(d.paper_ids), d.smtp_reply, d.error,
                   d.created_at, d.sent_at
            from deliveries d join subscribers s on s.id = d.subscriber_id
            where d.issue_id = @issue
              and (@status::text is null or d.status = @status)
              and (@generation::int is null or d.generation = @generation)
              and (@email = '' or strpos(lower(s.email), lower(@email)) > 0)
            order by d.generation desc, d.id limit @limit offset @offset
            """);
        command.Parameters.AddWithValue("issue", issueId);
        command.Parameters.Add(new NpgsqlParameter<string?>("status", status is { } s ? DbNames.ToDb(s) : null));
        command.Parameters.Add(new NpgsqlParameter<int?>("generation", generation));
        command.Parameters.AddWithValue("email", email?.Trim() ?? "");
        command.Parameters.AddWithValue("limit", limit);
        command.Parameters.AddWithValue("offset", offset);
        return await command.ReadAllAsync(reader => new DeliveryRow(
            reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetInt32(3), reader.GetString(4),
            reader.GetInt32(5), reader.GetInt32(6), reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8),
            reader.GetFieldValue<DateTimeOffset>(9), reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10)), ct);
    }

    public async Task<DeliveryDetail?> GetDeliveryAsync(long deliveryId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select d.id, d.issue_id, d.subscriber_id, s.email, s.interests, s.format, d.generation, d.status, d.paper_ids, d.week_of,
                   d.suggested_ids, cardinality(d.hidden_ids), d.reasons, coalesce(s.interests_after_delivery >= d.id, false)
            from deliveries d join subscribers s on s.id = d.subscriber_id where d.id = @id
            """);
        command.Parameters.AddWithValue("id", deliveryId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        return new DeliveryDetail(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4),
            reader.GetString(5), reader.GetInt32(6), reader.GetString(7), reader.GetFieldValue<long[]>(8))
        {
            WeekOf = reader.IsDBNull(9) ? null : reader.GetFieldValue<DateOnly>(9),
            Relevance = new DeliveryRelevance(reader.GetFieldValue<long[]>(10), reader.GetInt32(11), reader.GetFieldValue<string[]>(12)),
            LineChangedSince = reader.GetBoolean(13),
        };
    }

    public Task<IReadOnlyList<InboundRow>> InboundAsync(string? status, int limit, CancellationToken ct) => InboundAsync(status, limit, 0, ct);

    /// <summary>Stored inbound mail, newest first; only of <paramref name="status"/> when given.</summary>
    public Task<IReadOnlyList<InboundRow>> InboundAsync(string? status, int limit, int offset, CancellationToken ct) =>
        InboundAsync(status is null ? null : [status], limit, offset, ct);

    /// <summary>Mail that became no issue: quarantined, or a second listing of a day (a forward, a corrected re-send), newest first.</summary>
    public Task<IReadOnlyList<InboundRow>> SetAsideAsync(int limit, CancellationToken ct) => InboundAsync(["quarantined", "duplicate"], limit, 0, ct);

    private async Task<IReadOnlyList<InboundRow>> InboundAsync(string[]? statuses, int limit, int offset, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select id, status, from_address, subject, reason, size_bytes, received_at from inbound_messages
            where @statuses::text[] is null or status = any(@statuses)
            order by received_at desc, id desc limit @limit offset @offset
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]?>("statuses", statuses));
        command.Parameters.AddWithValue("limit", limit);
        command.Parameters.AddWithValue("offset", offset);
        return await command.ReadAllAsync(ReadInbound, ct);
    }

    public async Task<(InboundRow Row, byte[] Raw)?> GetInboundAsync(long inboundId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "select id, status, from_address, subject, reason, size_bytes, received_at, raw from inbound_messages where id = @id");
        command.Parameters.AddWithValue("id", inboundId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (ReadInbound(reader), reader.GetFieldValue<byte[]>(7)) : null;
    }

    private static InboundRow ReadInbound(NpgsqlDataReader reader) => new(reader.GetInt64(0), reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4),
        reader.GetInt32(5), reader.GetFieldValue<DateTimeOffset>(6));
}
