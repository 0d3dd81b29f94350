using Npgsql;

namespace Newsletter.IntegrationTests.Infrastructure;

public class PrivatePostgresTests
{
    [Fact]
    public async Task StopAsync_ThenStartAgainAsync_ConnectionsFailThenSucceedOnTheSamePort()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var postgres = await PrivatePostgres.StartAsync(ct);
        Assert.Equal(1, await SelectOneAsync(postgres.ConnectionString, ct));

        await postgres.StopAsync(ct);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => SelectOneAsync(postgres.ConnectionString, ct));

        await postgres.StartAgainAsync(ct);
        Assert.Equal(1, await SelectOneAsync(postgres.ConnectionString, ct));
        Assert.Contains($"Port={postgres.Port}", postgres.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAgainAsync_AfterStop_KeepsTheData()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var postgres = await PrivatePostgres.StartAsync(ct);
        await ExecuteAsync(postgres.ConnectionString, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)", ct);

        await postgres.StopAsync(ct);
        await postgres.StartAgainAsync(ct);
        // The pooled connection from before the restart is dead; this test is about the data, not about recovering.
        NpgsqlConnection.ClearAllPools();

        await using var connection = new NpgsqlConnection(postgres.ConnectionString);
        await connection.OpenAsync(ct);
        Assert.Equal(7, await new NpgsqlCommand("SELECT x FROM kept", connection).ExecuteScalarAsync(ct));
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
