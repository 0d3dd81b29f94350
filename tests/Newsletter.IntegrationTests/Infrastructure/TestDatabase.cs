using Npgsql;

namespace Newsletter.IntegrationTests.Infrastructure;

/// <summary>
/// A fresh database on the test PostgreSQL, dropped on dispose: tests isolate by database.
/// <code>await using var db = await TestDatabase.CreateAsync();</code>
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    TestDatabase(string name, string connectionString)
    {
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync(CancellationToken cancellationToken = default)
    {
        // A GUID in hex is a safe identifier: no quoting tricks, under the 63-byte limit.
        var name = "test_" + Guid.NewGuid().ToString("N");
        await ExecuteOnServerAsync($"CREATE DATABASE {name}", cancellationToken);
        var connectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { Database = name }.ConnectionString;
        var database = new TestDatabase(name, connectionString);
        try
        {
            await PrepareSchemaAsync(connectionString, cancellationToken);
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }

        return database;
    }

    public async Task<NpgsqlConnection> OpenConnectionAsync(CancellationToken cancellationToken = default)
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        using (var connection = new NpgsqlConnection(ConnectionString))
        {
            NpgsqlConnection.ClearPool(connection);
        }

        // FORCE ends the sessions a test left open (pooled connections, a crashed worker).
        await ExecuteOnServerAsync($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", CancellationToken.None);
    }

    // Every test database starts empty: the application's migrations run when a test builds its services
    // (TestApp), or when it calls Migrator.MigrateAsync itself.
    static Task PrepareSchemaAsync(string connectionString, CancellationToken cancellationToken) => Task.CompletedTask;

    static async Task ExecuteOnServerAsync(string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(TestEnvironment.PostgresConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
