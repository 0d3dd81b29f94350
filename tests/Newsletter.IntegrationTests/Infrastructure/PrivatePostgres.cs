using System.Diagnostics;
using Npgsql;

namespace Newsletter.IntegrationTests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster of its own, for tests that stop and restart the server ("PostgreSQL went away during a
/// poll, then came back"). Costs about a second to start; use <see cref="TestDatabase"/> for everything else.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    readonly string _directory;

    PrivatePostgres(string directory, int port)
    {
        _directory = directory;
        Port = port;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "postgres",
            Database = "postgres",
            Timeout = 5,
        }.ConnectionString;
    }

    public int Port { get; }

    /// <summary>Superuser, database <c>postgres</c>, trust authentication; the same across restarts.</summary>
    public string ConnectionString { get; }

    string DataDirectory => Path.Combine(_directory, "data");

    public static async Task<PrivatePostgres> StartAsync(CancellationToken cancellationToken = default)
    {
        var directory = Path.Combine(Path.GetTempPath(), "newsletter-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        // Run as root, the server runs as postgres, which must be able to create the data folder and log here.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, (UnixFileMode)0b111_111_111);
        }

        var postgres = new PrivatePostgres(directory, LoopbackPort.Free());
        try
        {
            await RunAsync("initdb", ["-D", postgres.DataDirectory, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"],
                cancellationToken);
            await File.AppendAllTextAsync(Path.Combine(postgres.DataDirectory, "postgresql.conf"), $"""

                listen_addresses = '127.0.0.1'
                port = {postgres.Port}
                unix_socket_directories = '{postgres.DataDirectory}'
                fsync = off
                synchronous_commit = off
                """, cancellationToken);
            await postgres.StartAgainAsync(cancellationToken);
        }
        catch
        {
            await postgres.DisposeAsync();
            throw;
        }

        return postgres;
    }

    /// <summary>Stops the server (fast shutdown: open sessions are ended). Connections fail until <see cref="StartAgainAsync"/>.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) =>
        RunAsync("pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "stop"], cancellationToken);

    /// <summary>
    /// Starts the server again on the same port with the same data; returns once it accepts connections.
    /// As after a real restart, pooled connections opened before the stop are dead: the first command on each fails
    /// once (57P01 or an I/O error) and Npgsql discards it.
    /// </summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        await RunAsync("pg_ctl", ["-D", DataDirectory, "-l", Path.Combine(_directory, "postgres.log"), "-w", "start"], cancellationToken);
        await WaitUntilReadyAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            await RunAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "stop"], CancellationToken.None);
        }

        Directory.Delete(_directory, recursive: true);
    }

    async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(ReadyTimeout);
        var probe = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 1 }.ConnectionString;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync(deadline.Token);
                return;
            }
            catch (NpgsqlException) when (!deadline.IsCancellationRequested)
            {
                // Not accepting connections yet (starting up or recovering): probe again shortly.
                await Task.Delay(TimeSpan.FromMilliseconds(50), deadline.Token);
            }
        }
    }

    /// <summary>Runs a PostgreSQL binary, as the postgres user when we are root (initdb and postgres refuse root).</summary>
    static async Task RunAsync(string program, string[] arguments, CancellationToken cancellationToken)
    {
        var path = Path.Combine(TestEnvironment.PostgresBin, program);
        var start = new ProcessStartInfo
        {
            FileName = Environment.IsPrivilegedProcess ? "runuser" : path,
            // A folder the postgres user can enter, whatever ours is (a checkout under /root, say).
            WorkingDirectory = TestEnvironment.PostgresBin,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (Environment.IsPrivilegedProcess)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", path })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {path}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await output}{await error}");
        }
    }
}
