using Newsletter.Database;
using Npgsql;

namespace Newsletter.Digests;

/// <summary>A delivery a report is about, with the address it went to.</summary>
public sealed record BouncedDelivery(long Id, long IssueId, long SubscriberId, string Email, DeliveryStatus Status);

/// <summary>
/// The ledger's side of a delivery report read from the inbox (Bounces/BounceStore.cs): finding the delivery, and
/// marking failed one that the receiving server had taken but could not deliver. Runs in the caller's transaction.
/// </summary>
public static class DeliveryBounces
{
    private const string Select =
        """
        select d.id, d.issue_id, d.subscriber_id, s.email, d.status
        from deliveries d join subscribers s on s.id = d.subscriber_id
        """;

    public static async Task<BouncedDelivery?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long deliveryId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(Select + " where d.id = @id", connection, transaction);
        command.Parameters.AddWithValue("id", deliveryId);
        return await ReadAsync(command, ct);
    }

    /// <summary>A delivery the server took (sent, or still sending or deferred; or pending, when the worker died before it
    /// wrote the outcome) becomes failed, with the report's words, so it is not sent again.</summary>
    public static async Task<bool> MarkFailedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long deliveryId,
        string error, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            """
            update deliveries set status = @failed, error = @error, next_attempt_at = null, updated_at = @now
            where id = @id and status = any(@taken)
            """, connection, transaction);
        command.Parameters.AddWithValue("failed", DbNames.ToDb(DeliveryStatus.Failed));
        command.Parameters.AddWithValue("error", StoredText.Bounded(error, 2000)!);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("id", deliveryId);
        command.Parameters.AddWithValue("taken", new[] { DeliveryStatus.Sent, DeliveryStatus.Sending, DeliveryStatus.Deferred, DeliveryStatus.Pending }.Select(DbNames.ToDb).ToArray());
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    private static async Task<BouncedDelivery?> ReadAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new BouncedDelivery(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), DbNames.Parse<DeliveryStatus>(reader.GetString(4)))
            : null;
    }
}
