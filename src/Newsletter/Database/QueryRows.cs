using Npgsql;

namespace Newsletter.Database;

/// <summary>A query's rows as a list, for the lists the admin pages, the CLI and the API show.</summary>
public static class QueryRows
{
    /// <summary>Runs <paramref name="command"/> and makes each row it returns into a <typeparamref name="T"/> with <paramref name="read"/>.</summary>
    public static async Task<List<T>> ReadAllAsync<T>(this NpgsqlCommand command, Func<NpgsqlDataReader, T> read, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(read);
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(read(reader));
        }
        return rows;
    }
}
