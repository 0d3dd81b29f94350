using Npgsql;

namespace Newsletter.Admin;

public sealed record PersonalDataExport(long Id, string Email, string Status, string? StatusReason, string Interests, string Format,
    DateTimeOffset CreatedAt, DateTimeOffset? ConfirmedAt, IReadOnlyList<PersonalDelivery> Deliveries);

public sealed record PersonalDelivery(long IssueId, DateOnly? IssueDate, int Generation, string Status, int Papers, DateTimeOffset CreatedAt, DateTimeOffset? SentAt);

/// <summary>Everything stored about one subscriber, for the export offered before erasing them.</summary>
public sealed class AdminPersonalData(NpgsqlDataSource db)
{
    public async Task<PersonalDataExport?> ExportAsync(long subscriberId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select id, email, status, status_reason, interests, format, created_at, confirmed_at from subscribers where id = @id;
            select d.issue_id, i.issue_date, d.generation, d.status, cardinality(d.paper_ids), d.created_at, d.sent_at
            from deliveries d join issues i on i.id = d.issue_id where d.subscriber_id = @id order by d.issue_id, d.generation;
            """);
        command.Parameters.AddWithValue("id", subscriberId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        var head = (Id: reader.GetInt64(0), Email: reader.GetString(1), Status: reader.GetString(2), Reason: reader.IsDBNull(3) ? null : reader.GetString(3),
            Interests: reader.GetString(4), Format: reader.GetString(5), Created: reader.GetFieldValue<DateTimeOffset>(6),
            Confirmed: reader.IsDBNull(7) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(7));
        await reader.NextResultAsync(ct);
        var deliveries = new List<PersonalDelivery>();
        while (await reader.ReadAsync(ct))
        {
            deliveries.Add(new PersonalDelivery(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateOnly>(1), reader.GetInt32(2),
                reader.GetString(3), reader.GetInt32(4), reader.GetFieldValue<DateTimeOffset>(5), reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6)));
        }
        return new PersonalDataExport(head.Id, head.Email, head.Status, head.Reason, head.Interests, head.Format, head.Created, head.Confirmed, deliveries);
    }
}
