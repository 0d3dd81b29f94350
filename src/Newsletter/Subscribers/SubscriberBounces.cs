using Npgsql;

namespace Newsletter.Subscribers;

/// <summary>The subscribers' side of a delivery report read from the inbox (Bounces/BounceStore.cs), in the caller's transaction.</summary>
public static class SubscriberBounces
{
    /// <summary>
    /// Locks the subscriber's row until the transaction ends, so reports about one subscriber ingested at the same time
    /// are counted one after the other; null when the subscriber is gone.
    /// </summary>
    public static async Task<SubscriberStatus?> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long subscriberId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("select status from subscribers where id = @id for no key update", connection, transaction);
        command.Parameters.AddWithValue("id", subscriberId);
        return await command.ExecuteScalarAsync(ct) is string status ? Enum.Parse<SubscriberStatus>(status, ignoreCase: true) : null;
    }

    /// <summary>An active subscriber becomes bounced (<see cref="SubscriberStore.MarkBouncedCommand"/>); false for any other.</summary>
    public static async Task<bool> MarkBouncedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long subscriberId,
        string reason, DateTimeOffset now, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { SubscriberStore.MarkBouncedCommand(subscriberId, reason, now) } };
        return await batch.ExecuteNonQueryAsync(ct) > 0;
    }
}
