using Npgsql;

namespace Newsletter.IntegrationTests.Infrastructure;

public class PrivatePostgresTests
{
    [Fact]
    public async Task StopAsync_ThenStartAgainAsync_ConnectionsFailThenSucceedOnTheSamePort()
    {
        await using var postgres = await PrivatePostgres.StartAsync(Ct);
        Assert.Equal(1, await SelectOneAsync(postgres.ConnectionString, Ct));

        await postgres.StopAsync(Ct);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => SelectOneAsync(postgres.ConnectionString, Ct));

        await postgres.StartAgainAsync(Ct);
        Assert.Equal(1, await SelectOneAsync(postgres.ConnectionString, Ct));
        Assert.Contains($"Port={postgres.Port}", postgres.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAgainAsync_AfterStop_KeepsTheData()
    {
        await using var postgres = await PrivatePostgres.StartAsync(Ct);
        await ExecuteAsync(postgres.ConnectionString, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)", Ct);

        await postgres.StopAsync(Ct);
        await postgres.StartAgainAsync(Ct);
        // The pooled connection from before the restart is dead; this test is about the data, not about recovering.
        NpgsqlConnection.ClearAllPools();

        await using var connection = new NpgsqlConnection(postgres.ConnectionString);
        await connection.OpenAsync(Ct);
        Assert.Equal(7, await new NpgsqlCommand("SELECT x FROM kept", connection).ExecuteScalarAsync(Ct));
    }

    static async Task<int> SelectOneAsync(string connectionString, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        return (int)(await new NpgsqlCommand("SELECT 1", connection).ExecuteScalarAsync(ct))!;
    }

    static async Task ExecuteAsync(string connectionString, string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await new NpgsqlCommand(sql, connection).ExecuteNonQueryAsync(ct);
    }
}
