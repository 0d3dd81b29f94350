using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Newsletter.Database;

/// <summary>
/// The development default database: a private PostgreSQL cluster run from the installed server binaries, kept under
/// a data root across runs, listening on a free 127.0.0.1 port only. Superuser <c>postgres</c> with a random password
/// (scram-sha-256) kept in <c>DATAROOT/password</c> (mode 600): trust on loopback would let any local user of a shared
/// machine in as superuser, and with it run programs as the postgres user.
/// </summary>
/// <remarks>
/// Layout of the data root: <c>data/</c> (the cluster, owned by the server's user), <c>password</c>, <c>postgres.log</c>,
/// <c>lock</c> (held while a process uses the cluster). Run as root, the binaries run as <c>postgres</c> through
/// <c>runuser</c>, since initdb and postgres refuse root.
/// </remarks>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    public const string DatabaseName = "newsletter";
    const string Superuser = "postgres";
    const string ServerUser = "postgres";
    const string BinEnvironmentVariable = "NEWSLETTER_PG_BIN";
    const int MaxUnixSocketPath = 107;
    static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    readonly string _bin;
    readonly FileStream _lock;
    readonly ILogger _logger;
    readonly Lock _gate = new();
    Task? _stopping;

    EmbeddedPostgres(string bin, string dataRoot, FileStream heldLock, int port, string password, ILogger logger)
    {
        _bin = bin;
        _lock = heldLock;
        _logger = logger;
        DataRoot = dataRoot;
        Port = port;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = IPAddress.Loopback.ToString(),
            Port = port,
            Username = Superuser,
            Password = password,
            Database = DatabaseName,
        }.ConnectionString;
    }

    /// <summary>Npgsql connection string of the superuser to the <c>newsletter</c> database.</summary>
    public string ConnectionString { get; }

    /// <summary>The folder actually used: the one asked for, or the fallback under /var/tmp (see <see cref="StartAsync"/>).</summary>
    public string DataRoot { get; }

    public int Port { get; }

    /// <summary>The cluster itself (PGDATA).</summary>
    public string DataDirectory => Path.Combine(DataRoot, "data");

    public string LogFile => Path.Combine(DataRoot, "postgres.log");

    /// <summary>
    /// Starts the cluster in <paramref name="dataRoot"/> (created and initialised on first use, reused afterwards) and
    /// returns once it accepts connections and the <c>newsletter</c> database exists. Run as root, when the postgres user
    /// cannot reach <paramref name="dataRoot"/> (a checkout in a mode-700 home), the data goes to
    /// <c>/var/tmp/newsletter-HASH</c> instead, HASH derived from <paramref name="dataRoot"/>, and a warning says so.
    /// </summary>
    public static async Task<EmbeddedPostgres> StartAsync(string dataRoot, ILogger logger, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataRoot);
        ArgumentNullException.ThrowIfNull(logger);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The embedded PostgreSQL runs on Linux and macOS; on Windows set ConnectionStrings__Newsletter to an existing server.");
        }

        var bin = await FindBinDirectoryAsync(Environment.GetEnvironmentVariable(BinEnvironmentVariable), ct);
        var root = await ChooseDataRootAsync(Path.GetFullPath(dataRoot), logger, ct);
        var heldLock = LockDataRoot(root);
        EmbeddedPostgres? postgres = null;
        try
        {
            var data = Path.Combine(root, "data");
            if (!Directory.Exists(data))
            {
                await InitializeAsync(bin, root, logger, ct);
            }

            var password = ReadPassword(root);
            await ReclaimAsync(bin, data, logger, ct);

            // The port is free when we look; should another process take it before the server binds it, try another.
            for (var attempt = 1; ; attempt++)
            {
                postgres = new EmbeddedPostgres(bin, root, heldLock, FreeLoopbackPort(), password, logger);
                if (await postgres.TryStartServerAsync(ct))
                {
                    break;
                }

                if (attempt == 3)
                {
                    throw new InvalidOperationException($"PostgreSQL in {postgres.DataDirectory} found no free port in 3 attempts; see {postgres.LogFile}.");
                }
            }

            await postgres.WaitUntilReadyAsync(ct);
            await postgres.CreateDatabaseAsync(ct);
            logger.LogInformation("Embedded PostgreSQL listening on 127.0.0.1:{Port}, data in {DataDirectory}, log {LogFile}",
                postgres.Port, postgres.DataDirectory, postgres.LogFile);
            return postgres;
        }
        catch
        {
            if (postgres is not null)
            {
                await postgres.StopAsync();
            }
            else
            {
                await heldLock.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>
    /// Fast shutdown (open sessions are ended), then waits until the server has exited. Idempotent and safe to call
    /// concurrently: every call returns the same task.
    /// </summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            return _stopping ??= StopServerAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    async Task StopServerAsync()
    {
        try
        {
            await StopClusterAsync(_bin, DataDirectory, CancellationToken.None);
            _logger.LogInformation("Embedded PostgreSQL on port {Port} stopped", Port);
        }
        finally
        {
            await _lock.DisposeAsync();
        }
    }

    /// <summary>Stops whatever server runs on <paramref name="data"/> and waits for its processes to be gone.</summary>
    static async Task StopClusterAsync(string bin, string data, CancellationToken ct)
    {
        if (ReadPostmasterPid(data) is { } pid && IsRunning(pid))
        {
            var stop = await RunAsync(Path.Combine(bin, "pg_ctl"), ["stop", "-D", data, "-m", "fast", "-w", "-t", "60"], asServerUser: true, ct);
            if (stop.ExitCode != 0 && IsRunning(pid))
            {
                throw new InvalidOperationException($"pg_ctl stop for {data} failed with exit code {stop.ExitCode}: {stop.Output}");
            }
        }

        await WaitUntilNoProcessUsesAsync(data, ct);
    }

    async Task<bool> TryStartServerAsync(CancellationToken ct)
    {
        var socketDirectory = Encoding.UTF8.GetByteCount(Path.Combine(DataDirectory, ".s.PGSQL.65535")) <= MaxUnixSocketPath
            ? DataDirectory
            : "/tmp";
        // Read through the include line InitializeAsync added to postgresql.conf; rewritten on each start for the new port.
        await File.WriteAllTextAsync(Path.Combine(DataDirectory, "newsletter.conf"), $"""
            # Written by the Newsletter application at each start; edits are lost.
            listen_addresses = '127.0.0.1'
            port = {Port}
            unix_socket_directories = '{ConfigString(socketDirectory)}'
            max_connections = 100
            """, ct);
        await PrepareLogFileAsync(LogFile, ct);

        var start = await RunAsync(Path.Combine(_bin, "pg_ctl"),
            ["start", "-D", DataDirectory, "-l", LogFile, "-w", "-t", ((int)ReadyTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture)],
            asServerUser: true, ct);
        if (start.ExitCode == 0)
        {
            return true;
        }

        var log = await TailAsync(LogFile);
        if (log.Contains("Address already in use", StringComparison.Ordinal))
        {
            _logger.LogWarning("Port {Port} was taken before PostgreSQL could bind it; trying another", Port);
            return false;
        }

        throw new InvalidOperationException(
            $"PostgreSQL in {DataDirectory} did not start (pg_ctl exit code {start.ExitCode}).\n{start.Output}\nLast lines of {LogFile}:\n{log}");
    }

    async Task WaitUntilReadyAsync(CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(ReadyTimeout);
        var probe = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = "postgres", Pooling = false, Timeout = 2 }.ConnectionString;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync(deadline.Token);
                return;
            }
            catch (NpgsqlException ex) when (!deadline.IsCancellationRequested)
            {
                // Still starting up or recovering after a crash: probe again shortly, until the deadline.
                _logger.LogDebug(ex, "Embedded PostgreSQL not ready yet");
                await Task.Delay(PollInterval, deadline.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException(
                    $"PostgreSQL in {DataDirectory} accepted no connection within {ReadyTimeout.TotalSeconds:0} s. Last lines of {LogFile}:\n{await TailAsync(LogFile)}");
            }
        }
    }

    async Task CreateDatabaseAsync(CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(ct);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", DatabaseName);
        if (await exists.ExecuteScalarAsync(ct) is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE {DatabaseName} ENCODING 'UTF8'", connection);
            await create.ExecuteNonQueryAsync(ct);
            _logger.LogInformation("Created database {Database}", DatabaseName);
        }
    }

    /// <summary>initdb into a scratch folder, then rename it: a run killed half-way leaves no half-made cluster behind.</summary>
    [UnsupportedOSPlatform("windows")]
    static async Task InitializeAsync(string bin, string root, ILogger logger, CancellationToken ct)
    {
        var scratch = Path.Combine(root, "data.initdb");
        if (Directory.Exists(scratch))
        {
            Directory.Delete(scratch, recursive: true);
        }

        logger.LogInformation("Creating the embedded PostgreSQL cluster in {DataRoot}", root);
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var passwordFile = Path.Combine(root, "password");
        File.Delete(passwordFile);
        WritePrivateFile(passwordFile, password + "\n");

        // initdb reads the password as the server's user; this copy lives only while initdb runs.
        var initdbPasswordFile = Path.Combine(root, "password.initdb");
        File.Delete(initdbPasswordFile);
        WritePrivateFile(initdbPasswordFile, password + "\n");
        try
        {
            Directory.CreateDirectory(scratch);
            await GiveToServerUserAsync(initdbPasswordFile, ct);
            await GiveToServerUserAsync(scratch, ct);
            var initdb = await RunAsync(Path.Combine(bin, "initdb"),
                ["-D", scratch, "-U", Superuser, "--pwfile", initdbPasswordFile, "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
                    "--encoding=UTF8", "--no-locale"],
                asServerUser: true, ct);
            if (initdb.ExitCode != 0)
            {
                throw new InvalidOperationException($"initdb in {scratch} failed with exit code {initdb.ExitCode}:\n{initdb.Output}");
            }
        }
        finally
        {
            File.Delete(initdbPasswordFile);
        }

        await File.AppendAllTextAsync(Path.Combine(scratch, "postgresql.conf"), "\n# Port and addresses of the Newsletter development cluster.\ninclude = 'newsletter.conf'\n", ct);
        Directory.Move(scratch, Path.Combine(root, "data"));
    }

    static string ReadPassword(string root)
    {
        var file = Path.Combine(root, "password");
        return File.Exists(file)
            ? File.ReadAllText(file).Trim()
            : throw new InvalidOperationException(
                $"{file} is missing, so the cluster in {Path.Combine(root, "data")} cannot be logged in to. Delete {root} to start over with an empty database.");
    }

    /// <summary>
    /// A previous run killed without stopping the server leaves it running (it is not our child), or leaves a stale
    /// postmaster.pid if the server died too. The lock we hold proves no live process of ours uses this cluster, so
    /// a server still running on it is an orphan: stop it. A stale pid file the server itself replaces at start.
    /// </summary>
    static async Task ReclaimAsync(string bin, string data, ILogger logger, CancellationToken ct)
    {
        if (ReadPostmasterPid(data) is not { } pid)
        {
            return;
        }

        if (IsRunning(pid) && UsesDirectory(pid, data))
        {
            logger.LogWarning("Embedded PostgreSQL (pid {Pid}) was left running by a previous run; stopping it", pid);
            await StopClusterAsync(bin, data, ct);
        }
        else
        {
            // The pid may by now belong to an unrelated process, which PostgreSQL would mistake for a live server.
            logger.LogWarning("Removing the stale postmaster.pid of a previous run that did not stop (pid {Pid} is gone)", pid);
            File.Delete(Path.Combine(data, "postmaster.pid"));
            await WaitUntilNoProcessUsesAsync(data, ct);
        }
    }

    /// <summary>
    /// Backends of a killed postmaster exit on their own within moments; until they have, the shared memory they hold
    /// keeps a new server from starting.
    /// </summary>
    static async Task WaitUntilNoProcessUsesAsync(string data, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (ProcessesUsing(data) is { Count: > 0 } pids)
        {
            if (deadline.Elapsed > ExitTimeout)
            {
                throw new InvalidOperationException(
                    $"PostgreSQL processes {string.Join(", ", pids)} still run in {data} after {ExitTimeout.TotalSeconds:0} s: end them (kill {string.Join(' ', pids)}) and start again.");
            }

            await Task.Delay(PollInterval, ct);
        }
    }

    /// <summary>Live processes whose working directory is <paramref name="directory"/>: a postmaster and all its children chdir into PGDATA.</summary>
    internal static IReadOnlyList<int> ProcessesUsing(string directory)
    {
        var real = RealPath(directory);
        var found = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && UsesDirectory(pid, real))
            {
                found.Add(pid);
            }
        }

        return found;
    }

    static bool UsesDirectory(int pid, string directory)
    {
        try
        {
            return Directory.ResolveLinkTarget($"/proc/{pid}/cwd", returnFinalTarget: false)?.FullName == RealPath(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false; // Gone meanwhile, or a zombie, or not ours to inspect.
        }
    }

    /// <summary>Exists and has not exited (a zombie has, whether or not its parent has reaped it yet).</summary>
    static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..];
            return !state.StartsWith('Z') && !state.StartsWith('X');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    static int? ReadPostmasterPid(string data)
    {
        var file = Path.Combine(data, "postmaster.pid");
        try
        {
            using var reader = new StreamReader(file);
            return int.TryParse(reader.ReadLine(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The path with every symbolic link resolved, as the kernel reports a working directory.</summary>
    static string RealPath(string path)
    {
        var resolved = "/";
        foreach (var part in Path.GetFullPath(path).Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(resolved, part);
            resolved = Directory.ResolveLinkTarget(next, returnFinalTarget: true) is { } target ? RealPath(target.FullName) : next;
        }

        return resolved;
    }

    /// <summary>
    /// Run as root, the server runs as postgres, which must be able to reach the data root. A checkout under a mode-700
    /// home is out of its reach; rather than open up the home, use a folder of our own under /var/tmp.
    /// </summary>
    [UnsupportedOSPlatform("windows")]
    static async Task<string> ChooseDataRootAsync(string requested, ILogger logger, CancellationToken ct)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            CreateReachableDirectory(requested);
            return requested;
        }

        var existing = requested;
        while (!Directory.Exists(existing))
        {
            existing = Path.GetDirectoryName(existing)!;
        }

        if (await ServerUserCanEnterAsync(existing, ct))
        {
            CreateReachableDirectory(requested);
            if (await ServerUserCanEnterAsync(requested, ct))
            {
                return requested;
            }
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(requested)))[..12];
        var fallback = Path.Combine("/var/tmp", "newsletter-" + hash);
        logger.LogWarning(
            "The {User} user cannot reach {Requested} (a folder on the way is private, e.g. a home of mode 700), so the embedded PostgreSQL keeps its data in {Fallback}. Set Newsletter:Development:DataFolder to choose another folder.",
            ServerUser, requested, fallback);
        if (Directory.Exists(fallback) && (new DirectoryInfo(fallback).LinkTarget is not null || !await IsOwnedByRootAsync(fallback, ct)))
        {
            throw new InvalidOperationException(
                $"{fallback} exists but is not a folder of this user's: remove it, or set Newsletter:Development:DataFolder to a folder the {ServerUser} user can reach (e.g. /var/tmp/newsletter).");
        }

        CreateReachableDirectory(fallback);
        return await ServerUserCanEnterAsync(fallback, ct)
            ? fallback
            : throw new InvalidOperationException(
                $"The {ServerUser} user can reach neither {requested} nor {fallback}: set Newsletter:Development:DataFolder to a folder it can reach.");
    }

    [UnsupportedOSPlatform("windows")]
    static void CreateReachableDirectory(string path)
    {
        Directory.CreateDirectory(path);
        // Only the root itself is opened (to 755); the password file in it stays 600 and the cluster 700.
        File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute
            | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    static async Task<bool> ServerUserCanEnterAsync(string directory, CancellationToken ct) =>
        (await RunAsync("test", ["-x", directory], asServerUser: true, ct)).ExitCode == 0;

    static async Task<bool> IsOwnedByRootAsync(string path, CancellationToken ct) =>
        (await RunAsync("stat", ["-c", "%u", path], asServerUser: false, ct)).Output.Trim() == "0";

    static FileStream LockDataRoot(string root)
    {
        var file = Path.Combine(root, "lock");
        try
        {
            // FileShare.None takes an flock, which the kernel drops when this process dies, however it dies.
            return new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException(
                $"The embedded PostgreSQL in {root} is in use by another process (another `dotnet run`?). A second process can share it: "
                + "set ConnectionStrings__Newsletter to the connection string the first one logged, or give it another Newsletter:Development:DataFolder.", ex);
        }
    }

    static async Task PrepareLogFileAsync(string log, CancellationToken ct)
    {
        // One log across runs, started afresh once it grows past a few megabytes.
        if (File.Exists(log) && new FileInfo(log).Length > 8 * 1024 * 1024)
        {
            File.Delete(log);
        }

        if (!File.Exists(log))
        {
            using (File.Create(log))
            {
            }

            // pg_ctl opens the log as the server's user.
            await GiveToServerUserAsync(log, ct);
        }
    }

    static async Task GiveToServerUserAsync(string path, CancellationToken ct)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return;
        }

        var chown = await RunAsync("chown", [ServerUser + ":", path], asServerUser: false, ct);
        if (chown.ExitCode != 0)
        {
            throw new InvalidOperationException($"chown {ServerUser}: {path} failed: {chown.Output} (does the {ServerUser} user exist?)");
        }
    }

    [UnsupportedOSPlatform("windows")]
    static void WritePrivateFile(string path, string content)
    {
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        stream.Write(Encoding.UTF8.GetBytes(content));
    }

    static async Task<string> TailAsync(string file, int lines = 20)
    {
        try
        {
            var all = await File.ReadAllLinesAsync(file);
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"({file} unreadable: {ex.Message})";
        }
    }

    static string ConfigString(string value) => value.Replace("'", "''", StringComparison.Ordinal);

    static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// The server binaries: <c>NEWSLETTER_PG_BIN</c> when set, else the newest <c>/usr/lib/postgresql/N/bin</c>
    /// (Debian, Ubuntu), else <c>pg_config --bindir</c>.
    /// </summary>
    internal static async Task<string> FindBinDirectoryAsync(string? configured, CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return HasServerBinaries(configured)
                ? configured
                : throw MissingBinaries($"{BinEnvironmentVariable} is {configured}, which has no initdb and pg_ctl.");
        }

        const string debian = "/usr/lib/postgresql";
        var newest = Directory.Exists(debian)
            ? Directory.EnumerateDirectories(debian)
                .Select(folder => (Version: int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1,
                    Bin: Path.Combine(folder, "bin")))
                .Where(candidate => candidate.Version >= 0 && HasServerBinaries(candidate.Bin))
                .OrderByDescending(candidate => candidate.Version)
                .Select(candidate => candidate.Bin)
                .FirstOrDefault()
            : null;
        if (newest is not null)
        {
            return newest;
        }

        try
        {
            var pgConfig = await RunAsync("pg_config", ["--bindir"], asServerUser: false, ct);
            var bindir = pgConfig.Output.Trim();
            if (pgConfig.ExitCode == 0 && HasServerBinaries(bindir))
            {
                return bindir;
            }
        }
        catch (Win32Exception)
        {
            // No pg_config on the PATH either: fall through to the message below.
        }

        throw MissingBinaries($"No initdb and pg_ctl were found in {debian}/*/bin, in `pg_config --bindir`, or in {BinEnvironmentVariable}.");
    }

    static bool HasServerBinaries(string folder) =>
        File.Exists(Path.Combine(folder, "initdb")) && File.Exists(Path.Combine(folder, "pg_ctl")) && File.Exists(Path.Combine(folder, "postgres"));

    static InvalidOperationException MissingBinaries(string what) => new(
        $"{what} In Development without a connection string, Newsletter runs a private PostgreSQL from the installed server binaries. "
        + "Fix it in one of these ways: install them with `sudo apt-get install postgresql` (Debian/Ubuntu; the system service it starts is not needed: `sudo systemctl disable --now postgresql`); "
        + $"or set {BinEnvironmentVariable} to the folder that holds initdb and pg_ctl; "
        + "or use an existing server: set ConnectionStrings__Newsletter=\"Host=localhost;Database=newsletter;Username=...;Password=...\".");

    /// <summary>Runs a program to its end, as the server's user when we are root (initdb and postgres refuse root).</summary>
    static async Task<(int ExitCode, string Output)> RunAsync(string program, IReadOnlyList<string> arguments, bool asServerUser, CancellationToken ct)
    {
        var asOtherUser = asServerUser && Environment.IsPrivilegedProcess;
        var start = new ProcessStartInfo
        {
            FileName = asOtherUser ? "runuser" : program,
            // A folder every user can enter, whatever the current one is (a checkout under /root, say).
            WorkingDirectory = "/",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (asOtherUser)
        {
            foreach (var argument in (string[])["-u", ServerUser, "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return (process.ExitCode, (await output + await error).Trim());
    }
}
