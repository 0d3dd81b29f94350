using System.Data;
using Npgsql;

namespace Newsletter.Database;

/// <summary>What a PostgreSQL advisory lock guards. Each space owns its own range of keys, so locks of two spaces never meet.</summary>
public enum LockSpace
{
    Migration = 1,
    InboxPoll = 2,
    SendBatch = 3,
    WeeklyDigests = 4,
    SavedKeywordLines = 5,
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

    /// <summary>
    /// Runs <paramref name="work"/> holding the lock, on a connection of its own, when no other session holds it;
    /// returns false and does nothing when one does.
    /// </summary>
    public static async Task<(bool Ran, T Result)> TryRunAsync<T>(NpgsqlDataSource db, LockSpace space, long id, Func<Task<T>> work,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(work);
        await using var connection = await db.OpenConnectionAsync(ct);
        if (!await TryTakeAsync(connection, space, id, ct))
        {
            return (false, default!);
        }
        try
        {
            return (true, await work());
        }
        finally
        {
            await ReleaseUnlessSessionEndedAsync(connection, space, id);
        }
    }

    /// <summary>Waits until the lock is free, then takes it.</summary>
    public static async Task TakeAsync(NpgsqlConnection connection, LockSpace space, long id, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("select pg_advisory_lock(@key)", connection);
        command.Parameters.AddWithValue("key", Key(space, id));
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Releases explicitly: a pooled connection would otherwise keep its session locks until it is next used.</summary>
    /// <returns>False when this session did not hold the lock.</returns>
    public static async Task<bool> ReleaseAsync(NpgsqlConnection connection, LockSpace space, long id)
    {
        await using var command = new NpgsqlCommand("select pg_advisory_unlock(@key)", connection);
        command.Parameters.AddWithValue("key", Key(space, id));
        return await command.ExecuteScalarAsync(CancellationToken.None) is true;
    }

    /// <summary>
    /// Releases a lock held around some work, from a <c>finally</c>: when the lock's session has ended (a restart of the
    /// server, an administrator, a dropped connection), its locks ended with it, so nothing is left to release and nothing
    /// is thrown: the caller sees the work's own result or error, not the lock connection's.
    /// </summary>
    public static async Task ReleaseUnlessSessionEndedAsync(NpgsqlConnection connection, LockSpace space, long id)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection.State != ConnectionState.Open)
        {
            return;
        }
        try
        {
            await ReleaseAsync(connection, space, id);
        }
        catch (NpgsqlException) when (connection.State != ConnectionState.Open)
        {
            // The session ended while the work ran; Npgsql learns it on this first use of the connection.
        }
    }

    /// <summary>
    /// Ends the sessions of this database that hold a lock of <paramref name="space"/> and have run nothing since before
    /// <paramref name="idleBefore"/>, which frees their locks; returns the ids they held once those sessions are gone.
    /// In <c>pg_locks</c> a bigint key is split: <c>classid</c> holds its high 32 bits (the space and the id's top 16),
    /// <c>objid</c> the low 32, and <c>objsubid</c> is 1.
    /// </summary>
    public static async Task<IReadOnlyList<long>> EndIdleHoldersAsync(NpgsqlDataSource db, LockSpace space, DateTimeOffset idleBefore, CancellationToken ct)
    {
        var ended = new List<(long Id, int Pid)>();
        await using (var command = db.CreateCommand(
            """
            with idle as materialized (
                select ((l.classid::bigint & 65535) << 32) | l.objid::bigint as id, a.pid
                from pg_locks l
                join pg_stat_activity a on a.pid = l.pid
                where l.locktype = 'advisory' and l.objsubid = 1 and l.granted
                  and l.database = (select oid from pg_database where datname = current_database())
                  and l.classid::bigint >> 16 = @space
                  and a.state = 'idle' and a.state_change < @idle_before
            )
            select id, pid from idle where pg_terminate_backend(pid)
            """))
        {
            command.Parameters.AddWithValue("space", (long)space);
            command.Parameters.AddWithValue("idle_before", idleBefore);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                ended.Add((reader.GetInt64(0), reader.GetInt32(1)));
            }
        }
        if (ended.Count == 0)
        {
            return [];
        }

        // pg_terminate_backend only signals: the locks go when the sessions have exited, normally within milliseconds.
        await using var gone = db.CreateCommand("select not exists (select 1 from pg_stat_activity where pid = any(@pids))");
        gone.Parameters.AddWithValue("pids", ended.Select(e => e.Pid).ToArray());
        for (var check = 0; check < 100 && await gone.ExecuteScalarAsync(ct) is not true; check++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), ct);
        }
        return ended.ConvertAll(e => e.Id);
    }
}
