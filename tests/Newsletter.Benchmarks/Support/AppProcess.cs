using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Newsletter.Benchmarks.Support;

/// <summary>The built application (Release) as a separate process: <c>newsletter --role worker|web</c>.</summary>
public sealed partial class AppProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;

    private readonly TaskCompletionSource _templatesCompiled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private AppProcess(Process process, StreamWriter log, string? url)
    {
        this.process = process;
        this.log = log;
        Url = url;
    }

    public int Id => process.Id;

    /// <summary>Where the web role listens (null for a worker).</summary>
    public string? Url { get; }

    public static AppProcess Start(BenchEnvironment env, IDictionary<string, string?> settings, string role, string name)
    {
        var url = role == "web" ? $"http://127.0.0.1:{FreePort()}" : null;
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { env.AppDll, "--role", role },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // As deployed (systemd WorkingDirectory, the image's WORKDIR): appsettings.json is read from here.
            WorkingDirectory = Path.GetDirectoryName(env.AppDll),
        };
        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value ?? "";
        }
        info.Environment["ASPNETCORE_URLS"] = url ?? "http://127.0.0.1:0";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";

        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start.");
        var log = new StreamWriter(Path.Combine(env.WorkDirectory, $"{name}.log")) { AutoFlush = true };
        var started = new AppProcess(process, log, url);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (log)
                {
                    log.WriteLine(e.Data);
                }
                if (e.Data.Contains("Digest templates compiled", StringComparison.Ordinal))
                {
                    started._templatesCompiled.TrySetResult();
                }
                if (e.Data.IndexOf(BlockCacheMarker, StringComparison.Ordinal) is >= 0 and var at)
                {
                    started._blockCacheCounts = e.Data[(at + BlockCacheMarker.Length)..];
                }
                if (e.Data.IndexOf(EmbeddingPeakMarker, StringComparison.Ordinal) is >= 0 and var peakAt)
                {
                    started._embeddingPeaks.Add(e.Data[(peakAt + EmbeddingPeakMarker.Length)..].Trim());
                }
                if (EmbeddingRun().Match(e.Data) is { Success: true } run)
                {
                    started._embeddingRuns.Enqueue(new EmbeddingRun(int.Parse(run.Groups[1].Value, CultureInfo.InvariantCulture),
                        TimeSpan.Parse(run.Groups[2].Value, CultureInfo.InvariantCulture), double.Parse(run.Groups[3].Value, CultureInfo.InvariantCulture)));
                }
            }
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.WriteLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    public bool HasExited => process.HasExited;

    // SendBatchJob logs the renderer's cache counts after each batch, totals since the worker started.
    private const string BlockCacheMarker = "paper blocks so far ";
    private volatile string? _blockCacheCounts;

    // EmbeddingProcess logs the peak RSS of each embedding child it ran.
    private const string EmbeddingPeakMarker = "embedding process peak RSS ";
    private readonly System.Collections.Concurrent.ConcurrentBag<string> _embeddingPeaks = [];

    /// <summary>The peak RSS of each embedding child the worker ran ("412 MB"), as the worker logged it.</summary>
    public IReadOnlyCollection<string> EmbeddingPeaks => _embeddingPeaks;

    [GeneratedRegex(@"Embedded (\d+) papers and \d+ keyword lines .* in (\d+:\d+:[\d.]+) \(([\d.]+) s of CPU\)")]
    private static partial Regex EmbeddingRun();

    private readonly System.Collections.Concurrent.ConcurrentQueue<EmbeddingRun> _embeddingRuns = new();

    /// <summary>Each embedding child the worker ran, in order: papers embedded, time from its start to its result, its CPU.</summary>
    public IReadOnlyCollection<EmbeddingRun> EmbeddingRuns => _embeddingRuns;

    /// <summary>The worker's latest paper-block counts ("N reused, M rendered, ..."), or null before its first batch.</summary>
    public string? BlockCacheCounts => _blockCacheCounts;

    /// <summary>A line of /proc/PID/status in kB (VmHWM: peak resident set size), or -1.</summary>
    public long StatusKilobytes(string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{process.Id}/status").FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
            return line is null ? -1 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }

    /// <summary>User + system CPU seconds the process has used so far.</summary>
    public double CpuSeconds()
    {
        process.Refresh();
        return process.TotalProcessorTime.TotalSeconds;
    }

    /// <summary>Until a worker has compiled its digest templates (it logs that once, soon after it starts).</summary>
    public Task WaitForTemplatesAsync(TimeSpan timeout) => _templatesCompiled.Task.WaitAsync(timeout);

    public async Task WaitForHttpAsync(string path, TimeSpan timeout)
    {
        using var http = new HttpClient();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The app exited with {process.ExitCode}; see its log in BENCH_WORK.");
            }
            try
            {
                using var response = await http.GetAsync(Url + path);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{Url}{path} did not answer within {timeout}.");
    }

    private bool disposed;

    public async ValueTask DisposeAsync()
    {
        if (disposed)
        {
            return;
        }
        disposed = true;
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        await process.WaitForExitAsync();
        lock (log)
        {
            log.Dispose();
        }
        process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One run of the worker's embedding child, as the worker logged it.</summary>
public sealed record EmbeddingRun(int Papers, TimeSpan Elapsed, double CpuSeconds);
