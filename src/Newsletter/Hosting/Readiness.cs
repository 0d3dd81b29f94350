using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Newsletter.Digests;
using Npgsql;
using Newsletter.Inbox;
using Newsletter.Mail;

namespace Newsletter.Hosting;

/// <summary>/readyz: can this process reach what it needs? PostgreSQL always; the IMAP and SMTP servers when configured.</summary>
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

internal sealed class MailServersReadiness(IOptions<InboxOptions> inbox, IOptions<ImapOptions> imap, IOptions<SmtpOptions> smtp) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(inbox.Value.DropFolder))
        {
            await ProbeAsync("IMAP", imap.Value.Host!, imap.Value.Port, problems, cancellationToken);
        }
        if (string.IsNullOrWhiteSpace(smtp.Value.PickupFolder))
        {
            await ProbeAsync("SMTP", smtp.Value.Host!, smtp.Value.Port, problems, cancellationToken);
        }
        return problems.Count == 0 ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(string.Join("; ", problems));
    }

    // A TCP connect says the server is there without logging in on every probe.
    private static async Task ProbeAsync(string name, string host, int port, List<string> problems, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(host, port, timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            problems.Add($"{name} {host}:{port}: {(ex is OperationCanceledException ? "no answer within 3 s" : ex.Message)}");
        }
    }
}
