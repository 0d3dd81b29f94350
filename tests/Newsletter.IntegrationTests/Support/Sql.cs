using System.Globalization;
using Npgsql;

namespace Newsletter.IntegrationTests.Support;

/// <summary>
/// Plain SQL against a test database: rows the application has no verb for, and rows read back for assertions.
/// Parameters are (name, value) pairs; SQL null reads as <c>default</c>.
/// </summary>
internal static class Sql
{
    public static async Task<T> ScalarAsync<T>(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync(connectionString);
        return await ScalarAsync<T>(connection, sql, parameters);
    }

    /// <summary>On a connection the test holds (a transaction it keeps open, a server it restarts).</summary>
    public static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        var value = await command.ExecuteScalarAsync(Ct);
        return value is null or DBNull ? default! : (T)value;
    }

    public static async Task<int> ExecuteAsync(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync(connectionString);
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(Ct);
    }

    /// <summary>Every row of every statement in <paramref name="sql"/>, each made into a <typeparamref name="T"/> by <paramref name="read"/>.</summary>
    public static async Task<List<T>> ReadAsync<T>(string connectionString, string sql, Func<NpgsqlDataReader, T> read,
        params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync(connectionString);
        await using var command = Command(connection, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<T>();
        do
        {
            while (await reader.ReadAsync(Ct))
            {
                rows.Add(read(reader));
            }
        }
        while (await reader.NextResultAsync(Ct));
        return rows;
    }

    /// <summary>Each row as its columns joined by " | ", SQL null as "null": rows a test compares as text.</summary>
    public static Task<List<string>> RowsAsync(string connectionString, string sql, params (string Name, object Value)[] parameters) =>
        ReadAsync(connectionString, sql, reader => string.Join(" | ", Enumerable.Range(0, reader.FieldCount)
            .Select(i => reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))), parameters);

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        return connection;
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }
}
