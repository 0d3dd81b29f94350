using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace Newsletter.Benchmarks.Support;

/// <summary>
/// With BENCH_PG_DIAGNOSTICS=1: what PostgreSQL spent a measured stretch on. pg_stat_statements gives each statement's
/// executor time; a sampler reads pg_stat_activity every few milliseconds and counts what the busy sessions were doing
/// (on the CPU, or waiting: for the WAL flush, a relation extension lock, the client). Printed to stderr, not part of
/// the results: both slow PostgreSQL down a little.
/// </summary>
public sealed partial class PostgresDiagnostics : IAsyncDisposable
{
    private readonly string connectionString;
    private readonly CancellationTokenSource stop = new();
    private readonly Dictionary<string, int> samples = new(StringComparer.Ordinal);
    private readonly Task sampler;

    private PostgresDiagnostics(string connectionString)
    {
        this.connectionString = connectionString;
        sampler = SampleAsync(stop.Token);
    }

    public static bool Enabled => Environment.GetEnvironmentVariable("BENCH_PG_DIAGNOSTICS") == "1";

    /// <summary>Resets the statement statistics of the server and starts sampling its sessions.</summary>
    public static async Task<PostgresDiagnostics> StartAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var reset = new NpgsqlCommand("create extension if not exists pg_stat_statements; select pg_stat_statements_reset()", connection);
        await reset.ExecuteNonQueryAsync();
        return new PostgresDiagnostics(connectionString);
    }

    public async Task ReportAsync(TextWriter output, string title)
    {
        await stop.CancelAsync();
        await sampler;
        await output.WriteLineAsync($"PostgreSQL during {title}: statements by executor time (calls, total ms, ms per call)");
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var top = new NpgsqlCommand(
            "select calls, total_exec_time, query from pg_stat_statements where calls > 0 order by total_exec_time desc limit 12", connection);
        await using (var reader = await top.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var calls = reader.GetInt64(0);
                var total = reader.GetDouble(1);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  {calls,8} {total,10:F1} {total / calls,8:F3}  {BenchEnvironment.Cut(Whitespace().Replace(reader.GetString(2), " "), 90)}"));
            }
        }
        var all = Math.Max(1, samples.Values.Sum());
        await output.WriteLineAsync($"PostgreSQL during {title}: what busy sessions were doing ({all} samples)");
        foreach (var (state, count) in samples.OrderByDescending(s => s.Value).Take(12))
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {100.0 * count / all,5:F1}%  {state}"));
        }
    }

    private async Task SampleAsync(CancellationToken ct)
    {
        await Task.Yield();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(CancellationToken.None);
        await using var command = new NpgsqlCommand(
            """
            select coalesce(wait_event_type || ':' || wait_event, 'CPU') || '  ' || left(query, 60)
            from pg_stat_activity
            where state = 'active' and backend_type = 'client backend' and pid <> pg_backend_pid()
            """, connection);
        while (!ct.IsCancellationRequested)
        {
            await using (var reader = await command.ExecuteReaderAsync(CancellationToken.None))
            {
                while (await reader.ReadAsync(CancellationToken.None))
                {
                    var state = Whitespace().Replace(reader.GetString(0), " ");
                    samples[state] = samples.GetValueOrDefault(state) + 1;
                }
            }
            try
            {
                // A sampling interval, not synchronisation: how often to look, as a profiler does.
                await Task.Delay(TimeSpan.FromMilliseconds(5), ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    public async ValueTask DisposeAsync()
    {
        if (!stop.IsCancellationRequested)
        {
            await stop.CancelAsync();
            await sampler;
        }
        stop.Dispose();
    }
}
