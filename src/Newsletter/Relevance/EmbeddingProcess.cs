using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Newsletter.Database;

namespace Newsletter.Relevance;

/// <summary>How to start this application's <c>embed</c> verb: a program and its arguments.</summary>
public sealed record EmbedderCommand(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>This application's <c>embed</c> verb (<see cref="Hosting.ThisApplication"/>).</summary>
    public static EmbedderCommand ThisApplication()
    {
        var (fileName, arguments) = Hosting.ThisApplication.Command(EmbeddingProcess.Verb);
        return new EmbedderCommand(fileName, arguments);
    }
}

/// <summary>
/// Runs <c>newsletter embed</c> as a child process for a fan-out, so the model's memory (ONNX Runtime's native arena
/// and the model's pages, which a managed release does not give back) lives and dies with that process and the worker
/// never maps it. The child gets the connection string in its environment (never on its command line or in a log),
/// reads the request on standard input, stores the vectors in PostgreSQL and exits; the caller reads them from there.
/// Bounded by <see cref="RelevanceOptions.EmbeddingTimeout"/>: a child that fails or overruns is stopped and logged,
/// and the fan-out goes on with what is stored.
/// </summary>
public sealed class EmbeddingProcess(EmbedderCommand command, IConfiguration configuration, IOptions<RelevanceOptions> options,
    ILogger<EmbeddingProcess> logger)
{
    /// <summary>The hidden verb the child runs.</summary>
    public const string Verb = "embed";

    /// <summary>Lines of the child's log kept for a warning when it fails.</summary>
    private const int LogTail = 20;

    /// <summary>What the child stored, or null when it failed or timed out (logged as a warning). Throws only when <paramref name="ct"/> is cancelled.</summary>
    public async Task<EmbeddingResult?> RunAsync(EmbeddingRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var info = new ProcessStartInfo(command.FileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Arguments)
        {
            info.ArgumentList.Add(argument);
        }
        // The one setting the child needs that the parent may hold only in memory (tests, a development database).
        info.Environment["ConnectionStrings__Newsletter"] = ConnectionStrings.Require(configuration);
        // Its log goes to standard error one line per entry, relayed here; standard output carries only its result.
        info.Environment["Logging__Console__FormatterName"] = "simple";
        info.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        info.Environment["Logging__Console__LogToStandardErrorThreshold"] = "Trace";

        var started = Stopwatch.GetTimestamp();
        using var process = new Process { StartInfo = info };
        var tail = new Queue<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            logger.LogDebug("embed: {Line}", e.Data);
            lock (tail)
            {
                if (tail.Count == LogTail)
                {
                    tail.Dequeue();
                }
                tail.Enqueue(e.Data);
            }
        };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            logger.LogWarning(ex, "The embedding process {Program} did not start: {Papers} papers and {Lines} keyword lines stay without vectors this time",
                command.FileName, request.Papers.Count, request.Interests.Count);
            return null;
        }
        process.BeginErrorReadLine();
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        logger.LogInformation("Embedding {Papers} papers and {Lines} keyword lines in process {ProcessId}", request.Papers.Count, request.Interests.Count, process.Id);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.Value.EmbeddingTimeout);
        try
        {
            try
            {
                await using (var input = process.StandardInput.BaseStream)
                {
                    await JsonSerializer.SerializeAsync(input, request, EmbeddingRequest.Json, deadline.Token);
                }
            }
            catch (IOException)
            {
                // The child closed its input early (it failed at start): its exit code and log say why, below.
            }
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            ct.ThrowIfCancellationRequested();
            logger.LogWarning("The embedding process did not finish in {Timeout} and was stopped: what it had not stored stays without vectors this time",
                options.Value.EmbeddingTimeout);
            return null;
        }

        var result = process.ExitCode == 0 ? Parse(await output) : null;
        if (result is null)
        {
            string log;
            lock (tail)
            {
                log = string.Join(Environment.NewLine, tail);
            }
            logger.LogWarning("The embedding process exited with {ExitCode}: {Papers} papers and {Lines} keyword lines may stay without vectors this time. Its last lines:{NewLine}{Log}",
                process.ExitCode, request.Papers.Count, request.Interests.Count, Environment.NewLine, log);
            return null;
        }
        logger.LogInformation("Embedded {Papers} papers and {Lines} keyword lines ({Left} left for the next fan-out) in {Elapsed} ({Cpu} s of CPU); embedding process peak RSS {PeakRss} MB",
            result.Papers, result.Interests, result.InterestsLeft, Stopwatch.GetElapsedTime(started), result.CpuSeconds, Math.Round(result.PeakRssMegabytes));
        return result;
    }

    private static EmbeddingResult? Parse(string output)
    {
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        try
        {
            return last is null ? null : JsonSerializer.Deserialize<EmbeddingResult>(last, EmbeddingRequest.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
