using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Newsletter.Hosting;

/// <summary>/readyz: can this process reach PostgreSQL? The features add their own servers (<see cref="ServerProbe"/>).</summary>
internal sealed class PostgresReadiness(NpgsqlDataSource db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = db.CreateCommand("select 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL: {ex.Message}");
        }
    }
}

/// <summary>Whether a server answers on its port: a TCP connect says it is there without logging in on every probe.</summary>
public static class ServerProbe
{
    /// <summary>Healthy, or unhealthy with "NAME host:port: why" when nothing answers within 3 s.</summary>
    public static async Task<HealthCheckResult> ConnectAsync(string name, string host, int port, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(host, port, timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{name} {host}:{port}: {(ex is OperationCanceledException ? "no answer within 3 s" : ex.Message)}");
        }
    }
}
