using Npgsql;

namespace Newsletter.IntegrationTests.Infrastructure;

public class TestDatabaseTests
{
    [Fact]
    public async Task CreateAsync_NewDatabase_AcceptsQueriesAndIsDroppedOnDispose()
    {
        var ct = TestContext.Current.CancellationToken;
        string name;
        await using (var db = await TestDatabase.CreateAsync(ct))
        {
            name = db.Name;
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var command = new NpgsqlCommand("CREATE TABLE t (x int); INSERT INTO t VALUES (41), (1); SELECT current_database(), sum(x)::int FROM t", connection);
            await using var reader = await command.ExecuteReaderAsync(ct);
            Assert.True(await reader.ReadAsync(ct));
            Assert.Equal(name, reader.GetString(0));
            Assert.Equal(42, reader.GetInt32(1));
        }

        Assert.False(await DatabaseExistsAsync(name, ct));
    }

    [Fact]
    public async Task CreateAsync_TwoDatabases_AreIsolated()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var first = await TestDatabase.CreateAsync(ct);
        await using var second = await TestDatabase.CreateAsync(ct);

        await using (var connection = await first.OpenConnectionAsync(ct))
        {
            await new NpgsqlCommand("CREATE TABLE only_in_first (x int)", connection).ExecuteNonQueryAsync(ct);
        }

        await using var other = await second.OpenConnectionAsync(ct);
        var found = await new NpgsqlCommand("SELECT to_regclass('only_in_first') IS NOT NULL", other).ExecuteScalarAsync(ct);
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
