using Npgsql;

namespace Newsletter.IntegrationTests.Infrastructure;

public class TestDatabaseTests
{
    [Fact]
    public async Task CreateAsync_NewDatabase_AcceptsQueriesAndIsDroppedOnDispose()
    {
        string name;
        await using (var db = await TestDatabase.CreateAsync(Ct))
        {
            name = db.Name;
            await using var connection = await db.OpenConnectionAsync(Ct);
            await using var command = new NpgsqlCommand("CREATE TABLE t (x int); INSERT INTO t VALUES (41), (1); SELECT current_database(), sum(x)::int FROM t", connection);
            await using var reader = await command.ExecuteReaderAsync(Ct);
            Assert.True(await reader.ReadAsync(Ct));
            Assert.Equal(name, reader.GetString(0));
            Assert.Equal(42, reader.GetInt32(1));
        }

        Assert.False(await DatabaseExistsAsync(name, Ct));
    }

    [Fact]
    public async Task CreateAsync_TwoDatabases_AreIsolated()
    {
        await using var first = await TestDatabase.CreateAsync(Ct);
        await using var second = await TestDatabase.CreateAsync(Ct);

        await using (var connection = await first.OpenConnectionAsync(Ct))
        {
            await new NpgsqlCommand("CREATE TABLE only_in_first (x int)", connection).ExecuteNonQueryAsync(Ct);
        }

        await using var other = await second.OpenConnectionAsync(Ct);
        var found = await new NpgsqlCommand("SELECT to_regclass('only_in_first') IS NOT NULL", other).ExecuteScalarAsync(Ct);
        Assert.Equal(false, found);
    }

    static async Task<bool> DatabaseExistsAsync(string name, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(TestEnvironment.PostgresConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = name } } };
        return (long)(await command.ExecuteScalarAsync(ct))! == 1;
    }
}
