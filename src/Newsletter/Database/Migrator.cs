using System.Globalization;
using System.Reflection;
using DbUp;
using DbUp.Engine.Output;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Newsletter.Database;

/// <summary>
/// Applies the numbered SQL files in Database/Migrations (DbUp keeps the journal) and Hangfire's own schema.
/// Several processes may start at once: an advisory lock makes them migrate one after the other.
/// </summary>
public static class Migrator
{
    public const string HangfireSchema = "hangfire";

    public static Task MigrateAsync(string connectionString, ILogger logger, CancellationToken ct = default) =>
        MigrateAsync(connectionString, logger, through: null, ct);

    /// <param name="through">Only the scripts numbered up to this one (the schema an earlier release left, for a migration's test); null: all.</param>
    internal static async Task MigrateAsync(string connectionString, ILogger logger, int? through, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(ct);
        }
        catch (NpgsqlException ex) when (!ct.IsCancellationRequested)
        {
            throw new DatabaseUnavailableException(connectionString, ex);
        }
        await AdvisoryLocks.TakeAsync(connection, LockSpace.Migration, 0, ct);
        try
        {
            var result = DeployChanges.To
                .PostgresqlDatabase(connectionString)
                .WithScriptsEmbeddedInAssembly(
                    Assembly.GetExecutingAssembly(),
                    name => name.Contains(ScriptsPrefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal)
                        && (through is null || ScriptNumber(name) <= through))
                .WithTransactionPerScript()
                .LogTo(new DbUpLog(logger))
                .Build()
                .PerformUpgrade();
            if (!result.Successful)
            {
                throw new InvalidOperationException($"Migration {result.ErrorScript?.Name} failed: {result.Error.Message}", result.Error);
            }

            // Hangfire's tables are created here rather than by each server at start, so they exist before any
            // process enqueues a job and the servers need no DDL rights.
            PostgreSqlObjectsInstaller.Install(connection, HangfireSchema);
        }
        finally
        {
            await AdvisoryLocks.ReleaseUnlessSessionEndedAsync(connection, LockSpace.Migration, 0);
        }
    }

    private const string ScriptsPrefix = ".Database.Migrations.";

    /// <summary>The number a script's file name starts with: 20 for Newsletter.Database.Migrations.0020_weekly_digest_ends.sql.</summary>
    private static int ScriptNumber(string name) =>
        int.Parse(name.AsSpan(name.IndexOf(ScriptsPrefix, StringComparison.Ordinal) + ScriptsPrefix.Length, 4), CultureInfo.InvariantCulture);

#pragma warning disable CA2254 // DbUp hands us its own format strings.
    private sealed class DbUpLog(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) => logger.LogTrace(format, args);
        public void LogDebug(string format, params object[] args) => logger.LogDebug(format, args);
        public void LogInformation(string format, params object[] args) => logger.LogDebug(format, args);
        public void LogWarning(string format, params object[] args) => logger.LogWarning(format, args);
        public void LogError(string format, params object[] args) => logger.LogError(format, args);
        public void LogError(Exception ex, string format, params object[] args) => logger.LogError(ex, format, args);
    }
#pragma warning restore CA2254
}
