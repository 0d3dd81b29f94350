using Npgsql;

namespace Newsletter.IntegrationTests.Support;

/// <summary>Reads the delivery ledger the way an operator would, for assertions.</summary>
internal sealed class Ledger(string connectionString)
{
    public async Task<Dictionary<string, string>> StatusByEmailAsync(long issueId, int generation, CancellationToken ct)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(
            "select s.email, d.status from deliveries d join subscribers s on s.id = d.subscriber_id where d.issue_id = @issue and d.generation = @generation",
            connection);
        command.Parameters.AddWithValue("issue", issueId);
        command.Parameters.AddWithValue("generation", generation);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result[reader.GetString(0)] = reader.GetString(1);
        }
        return result;
    }

    /// <summary>True once every row of the issue is final: nothing pending, sending or deferred.</summary>
    public async Task<bool> SettledAsync(long issueId, int expectedRows, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(
            "select count(*), count(*) filter (where status in ('pending', 'sending', 'deferred')) from deliveries where issue_id = @issue",
            connection);
        command.Parameters.AddWithValue("issue", issueId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return reader.GetInt64(0) == expectedRows && reader.GetInt64(1) == 0;
    }

    public async Task<object?> ScalarAsync(string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync(ct);
        return value is DBNull ? null : value;
    }
}
