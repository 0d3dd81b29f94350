using Npgsql;

namespace Newsletter.Database;

/// <summary>What a PostgreSQL advisory lock guards. Each space owns its own range of keys, so locks of two spaces never meet.</summary>
public enum LockSpace
{
    Migration = 1,
    InboxPoll = 2,
    SendBatch = 3,
}

/// <summary>Session advisory locks keyed by (space, id): the space in the top 16 bits of the key, the id in the other 48.</summary>
public static class AdvisoryLocks
{
    private const int IdBits = 48;

    public static long Key(LockSpace space, long id = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, 1L << IdBits);
        return ((long)space << IdBits) | id;
    }

    /// <summary>Takes the lock if no other session holds it; it stays with this connection's session until released.</summary>
    public static async Task<bool> TryTakeAsync(NpgsqlConnection connection, LockSpace space, long id, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("select pg_try_advisory_lock(@key)", connection);
        command.Parameters.AddWithValue("key", Key(space, id));
        return await command.ExecuteScalarAsync(ct) is true;
    }

    /// <summary>Waits until the lock is free, then takes it.</summary>
    public static async Task TakeAsync(NpgsqlConnection connection, LockSpace space, long id, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("select pg_advisory_lock(@key)", connection);
        command.Parameters.AddWithValue("key", Key(space, id));
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Releases explicitly: a pooled connection would otherwise keep its session locks until it is next used.</summary>
    public static async Task ReleaseAsync(NpgsqlConnection connection, LockSpace space, long id)
    {
        await using var command = new NpgsqlCommand("select pg_advisory_unlock(@key)", connection);
        command.Parameters.AddWithValue("key", Key(space, id));
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }
}
