using System.Diagnostics;

namespace Newsletter.IntegrationTests.Operations;

/// <summary>The README's first command, exactly as written, in a fresh clone of this repository.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // setsid, /proc and Unix file modes
public sealed partial class FirstRunTests
{
    [Fact]
    public async Task ReadmeFirstCommand_FreshClone_ServesWritesDigestsAndLeavesNoPostgresBehind()
    {
        var root = Repository.Root;
        var readme = await File.ReadAllTextAsync(Path.Combine(root, "README.md"), Ct);
        var command = readme.Split('\n').First(l => l.StartsWith("dotnet run ", StringComparison.Ordinal)).Split('#')[0].Trim();
        var folder = Directory.CreateTempSubdirectory("newsletter-first-run-");
        // A fresh checkout is readable by others, as git leaves it; a private temp folder would send the data elsewhere.
        folder.UnixFileMode |= UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        var clone = Path.Combine(folder.FullName, "newsletter");
        await RunAsync("git", ["clone", "--quiet", "--no-hardlinks", root, clone], Path.GetTempPath());

        // setsid: the command and everything it starts form one process group, stopped together like Ctrl+C would.
        var info = new ProcessStartInfo("setsid", ["bash", "-c", $"exec {command}"])
        {
            WorkingDirectory = clone,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        info.Environment.Remove("DOTNET_ENVIRONMENT");
        using var app = StartLogged(info, out var log);
        var outbox = Path.Combine(clone, "src", "Newsletter", ".data", "outbox");
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await Eventually.WaitAsync(async () => !app.HasExited && await AnswersAsync(http, "http://localhost:5080/healthz"),
                TimeSpan.FromMinutes(5), "the site to answer (first build included)", Ct);
            await Eventually.WaitAsync(() => Task.FromResult(Directory.Exists(outbox) && Directory.GetFiles(outbox, "*.eml").Length >= 3),
                TimeSpan.FromMinutes(2), "digests in the pickup folder", Ct);
            Assert.True(await AnswersAsync(http, "http://localhost:5080/"), "the site's front page answers");
        }
        finally
        {
            await RunAsync("kill", ["-s", "TERM", "--", $"-{app.Id}"], clone, allowFailure: true);
            await app.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromMinutes(1), Ct);
            await File.WriteAllLinesAsync(Path.Combine(TestEnvironment.ArtifactsDirectory, "first-run.log"), log, Ct);
        }

        Assert.Equal(3, Directory.GetFiles(outbox, "*.eml").Length);
        var data = log.Select(line => DataDirectory().Match(line)).First(m => m.Success).Groups[1].Value;
        Assert.StartsWith(clone, data, StringComparison.Ordinal);
        Assert.Empty(PostgresProcessesUsing(data));
        Assert.Contains(log, line => line.Contains("Embedded PostgreSQL on port", StringComparison.Ordinal) && line.Contains("stopped", StringComparison.Ordinal));
    }

    /// <summary>
    /// A stop signal before the server is up (here: as soon as the embedded database listens, while the application
    /// migrates and builds) ends the start and stops that database before the process exits.
    /// </summary>
    [Fact]
    public async Task EmbeddedDefault_StopSignalWhileStarting_StopsItsPostgresAndExits()
    {
        var folder = Directory.CreateTempSubdirectory("newsletter-stopped-starting-");
        // Readable by the postgres user, as a checkout is (the embedded server runs as postgres when the tests run as root).
        folder.UnixFileMode |= UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        var info = new ProcessStartInfo("dotnet")
        {
            // The build's own settings (Development's included); the data in this test's folder.
            ArgumentList = { WorkerProcess.ApplicationDll(), "--contentRoot", Path.GetDirectoryName(WorkerProcess.ApplicationDll())! },
            WorkingDirectory = folder.FullName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment.Remove("ConnectionStrings__Newsletter");
        info.Environment["DOTNET_ENVIRONMENT"] = "Development";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        info.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        info.Environment["Newsletter__Development__DataFolder"] = Path.Combine(folder.FullName, ".data");
        using var app = StartLogged(info, out var log);
        try
        {
            await Eventually.WaitAsync(() => Task.FromResult(log.Any(line => DataDirectory().IsMatch(line))),
                TimeSpan.FromMinutes(2), "the embedded database to listen", Ct);
            await RunAsync("kill", ["-s", "TERM", app.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], folder.FullName);
            await app.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromMinutes(1), Ct);
        }
        finally
        {
            if (!app.HasExited)
            {
                app.Kill(entireProcessTree: true);
            }
            await File.WriteAllLinesAsync(Path.Combine(TestEnvironment.ArtifactsDirectory, "stopped-while-starting.log"), log, Ct);
        }

        var data = log.Select(line => DataDirectory().Match(line)).First(m => m.Success).Groups[1].Value;
        Assert.Empty(PostgresProcessesUsing(data));
        Assert.Contains(log, line => line.Contains("Embedded PostgreSQL on port", StringComparison.Ordinal) && line.Contains("stopped", StringComparison.Ordinal));
        // 130: its start was ended, as the command line documents (0 if a slow machine let it finish starting first).
        Assert.True(app.ExitCode is 130 or 0, $"exit code {app.ExitCode}");
        folder.Delete(recursive: true);
    }

    /// <summary>Starts the process with its standard output and error gathered line by line.</summary>
    private static Process StartLogged(ProcessStartInfo info, out System.Collections.Concurrent.ConcurrentQueue<string> log)
    {
        var app = Process.Start(info)!;
        var lines = log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        app.OutputDataReceived += (_, e) => { if (e.Data is not null) { lines.Enqueue(e.Data); } };
        app.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lines.Enqueue(e.Data); } };
        app.BeginOutputReadLine();
        app.BeginErrorReadLine();
        return app;
    }

    private static async Task<bool> AnswersAsync(HttpClient http, string url)
    {
        try
        {
            return (await http.GetAsync(new Uri(url), Ct)).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!Ct.IsCancellationRequested)
        {
            return false;
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"Embedded PostgreSQL listening on .*, data in (.+?), log ")]
    private static partial System.Text.RegularExpressions.Regex DataDirectory();

    /// <summary>PostgreSQL server processes started on the given data folder.</summary>
    private static List<int> PostgresProcessesUsing(string data) =>
        Directory.GetDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : -1)
            .Where(pid => pid > 0)
            .Where(pid =>
            {
                try
                {
                    var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
                    return cmdline.Contains("postgres", StringComparison.Ordinal) && cmdline.Contains(data, StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return false; // The process ended while we looked.
                }
                catch (UnauthorizedAccessException)
                {
                    return false;
                }
            })
            .ToList();

    private static async Task RunAsync(string file, string[] args, string directory, bool allowFailure = false)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { WorkingDirectory = directory })!;
        await process.WaitForExitAsync(Ct);
        if (process.ExitCode != 0 && !allowFailure)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}");
        }
    }
}
