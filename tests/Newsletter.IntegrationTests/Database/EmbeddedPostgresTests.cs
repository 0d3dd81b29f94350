using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging.Abstractions;
using Newsletter.Database;
using Npgsql;

namespace Newsletter.IntegrationTests.Database;

/// <summary>The development default database: a cluster kept across runs, on a free port, leaving no process behind.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class EmbeddedPostgresTests : IDisposable
{
    readonly string _root = Path.Combine(Path.GetTempPath(), "newsletter-embedded-" + Guid.NewGuid().ToString("N")[..8]);
    readonly List<string> _extraRoots = [];

    [Fact]
    public async Task StartAsync_SecondRunOnTheSameFolder_KeepsTheDataAndLeavesNoProcessBehind()
    {
        var first = await EmbeddedPostgres.StartAsync(_root, NullLogger.Instance, Ct);
        var dataDirectory = first.DataDirectory;
        var password = await File.ReadAllTextAsync(Path.Combine(first.DataRoot, "password"), Ct);
        await ExecuteAsync(first.ConnectionString, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)", Ct);
        Assert.Contains("Database=newsletter", first.ConnectionString, StringComparison.Ordinal);
        Assert.NotEmpty(ProcessesIn(dataDirectory));

        await first.StopAsync();
        await first.StopAsync();
        await first.DisposeAsync();
        Assert.Empty(ProcessesIn(dataDirectory));
        Assert.False(File.Exists(Path.Combine(dataDirectory, "postmaster.pid")));

        await using var second = await EmbeddedPostgres.StartAsync(_root, NullLogger.Instance, Ct);
        Assert.Equal(dataDirectory, second.DataDirectory);
        Assert.Equal(password, await File.ReadAllTextAsync(Path.Combine(second.DataRoot, "password"), Ct));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(second.DataRoot, "password")));
        Assert.Equal(7, await ScalarAsync(second.ConnectionString, "SELECT x FROM kept", Ct));
    }

    [Fact]
    public async Task StartAsync_AfterTheServerWasKilled_RecoversAndKeepsTheData()
    {
        await using (var first = await EmbeddedPostgres.StartAsync(_root, NullLogger.Instance, Ct))
        {
            await ExecuteAsync(first.ConnectionString, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)", Ct);
            NpgsqlConnection.ClearAllPools();
            // A crash of the whole machine or an OOM kill: the postmaster dies without removing postmaster.pid.
            var postmaster = int.Parse((await File.ReadAllLinesAsync(Path.Combine(first.DataDirectory, "postmaster.pid"), Ct))[0], CultureInfo.InvariantCulture);
            using var process = Process.GetProcessById(postmaster);
            // No wait here: not our child, it may stay a zombie; stopping (at the end of this block) must cope with that.
            process.Kill();
        }

        await using var second = await EmbeddedPostgres.StartAsync(_root, NullLogger.Instance, Ct);
        Assert.Equal(7, await ScalarAsync(second.ConnectionString, "SELECT x FROM kept", Ct));
    }

    [Fact]
    public async Task StartAsync_ServerLeftRunningByAKilledRun_StopsItAndStartsAfresh()
    {
        string dataDirectory;
        await using (var first = await EmbeddedPostgres.StartAsync(_root, NullLogger.Instance, Ct))
        {
            dataDirectory = first.DataDirectory;
        }

        // What a SIGKILLed app leaves: the server (not the app's child) still running, nobody holding the folder.
        var orphan = await StartServerByHandAsync(dataDirectory, Ct);
        Assert.Contains(orphan, ProcessesIn(dataDirectory));

        await using var second = await EmbeddedPostgres.StartAsync(_root, NullLogger.Instance, Ct);

        Assert.Equal(1, await ScalarAsync(second.ConnectionString, "SELECT 1", Ct));
        Assert.DoesNotContain(orphan, ProcessesIn(dataDirectory));
    }

    [Fact]
    public async Task StartAsync_FolderInUseByAnotherInstance_ThrowsAndLeavesTheFirstRunning()
    {
        await using var first = await EmbeddedPostgres.StartAsync(_root, NullLogger.Instance, Ct);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => EmbeddedPostgres.StartAsync(_root, NullLogger.Instance, Ct));

        Assert.Contains("in use by another process", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, await ScalarAsync(first.ConnectionString, "SELECT 1", Ct));
    }

    [Fact]
    public async Task StartAsync_FolderInsideAPrivateDirectory_RunsWhereThePostgresUserCanReach()
    {
        // Like a checkout under /root (mode 700).
        var home = Directory.CreateDirectory(Path.Combine(_root, "home"));
        File.SetUnixFileMode(home.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var requested = Path.Combine(home.FullName, "checkout", ".data", "postgres");

        await using var postgres = await EmbeddedPostgres.StartAsync(requested, NullLogger.Instance, Ct);
        _extraRoots.Add(postgres.DataRoot);

        Assert.Equal(1, await ScalarAsync(postgres.ConnectionString, "SELECT 1", Ct));
        if (Environment.IsPrivilegedProcess)
        {
            // The server runs as postgres, which cannot enter the home: the data went to /var/tmp, the home stayed private.
            Assert.StartsWith("/var/tmp/newsletter-", postgres.DataRoot, StringComparison.Ordinal);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(home.FullName));
        }
        else
        {
            // Not root: the server runs as this user, who can reach its own home.
            Assert.Equal(requested, postgres.DataRoot);
        }
    }

    [Fact]
    public async Task FindBinDirectoryAsync_ConfiguredFolderWithoutBinaries_SaysHowToFixIt()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => EmbeddedPostgres.FindBinDirectoryAsync(_root, Ct));

        Assert.Contains("apt-get install postgresql", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings__Newsletter", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FindBinDirectoryAsync_NothingConfigured_FindsTheInstalledServer()
    {
        var bin = await EmbeddedPostgres.FindBinDirectoryAsync(null, Ct);

        Assert.True(File.Exists(Path.Combine(bin, "pg_ctl")), bin);
    }

    public void Dispose()
    {
        foreach (var root in _extraRoots.Append(_root))
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    /// <summary>Live processes working in the cluster's folder: a postmaster and all its children chdir into it.</summary>
    static List<int> ProcessesIn(string dataDirectory)
    {
        var pids = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid))
            {
                continue;
            }

            try
            {
                if (Directory.ResolveLinkTarget(Path.Combine(entry, "cwd"), returnFinalTarget: false)?.FullName == dataDirectory)
                {
                    pids.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Exited meanwhile or a zombie: not running.
            }
        }

        return pids;
    }

    static async Task<int> StartServerByHandAsync(string dataDirectory, CancellationToken ct)
    {
        var pgCtl = Path.Combine(await EmbeddedPostgres.FindBinDirectoryAsync(null, ct), "pg_ctl");
        var start = new ProcessStartInfo(Environment.IsPrivilegedProcess ? "runuser" : pgCtl) { WorkingDirectory = "/", RedirectStandardOutput = true };
        foreach (var argument in (Environment.IsPrivilegedProcess ? ["-u", "postgres", "--", pgCtl] : Array.Empty<string>())
            .Concat(["start", "-D", dataDirectory, "-l", "/dev/null", "-w"]))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        await process.StandardOutput.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        Assert.Equal(0, process.ExitCode);
        return int.Parse((await File.ReadAllLinesAsync(Path.Combine(dataDirectory, "postmaster.pid"), ct))[0], CultureInfo.InvariantCulture);
    }

    static async Task ExecuteAsync(string connectionString, string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    static async Task<int> ScalarAsync(string connectionString, string sql, CancellationToken ct)
    {
        // Pooling off: a connection pooled before a restart of the server would fail once.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return (int)(await command.ExecuteScalarAsync(ct))!;
    }
}
