using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Newsletter.Hosting;

namespace Newsletter.Mail;

/// <summary>
/// Compiles the email templates in a child process (<c>newsletter compile-templates ROOT</c>) for a process that only
/// renders them: Roslyn, the code the JIT makes of it and the heap it grows (about 80 MB of the worker's resident
/// memory, docs/performance.md) live and die with the child, and the worker loads the few kilobytes it emits.
/// </summary>
public sealed partial class TemplateCompilerProcess
{
    private readonly IOptions<TemplateOptions> _options;
    private readonly ILogger<TemplateCompilerProcess> _logger;
    private readonly (string FileName, IReadOnlyList<string> Arguments) _command;

    public TemplateCompilerProcess(IOptions<TemplateOptions> options, ILogger<TemplateCompilerProcess> logger)
        : this(options, logger, ThisApplication.Command(Verb))
    {
    }

    /// <param name="command">The program and arguments that run the verb (tests: a child that fails).</param>
    internal TemplateCompilerProcess(IOptions<TemplateOptions> options, ILogger<TemplateCompilerProcess> logger,
        (string FileName, IReadOnlyList<string> Arguments) command)
    {
        _options = options;
        _logger = logger;
        _command = command;
    }

    /// <summary>The hidden verb the child runs.</summary>
    public const string Verb = "compile-templates";

    /// <summary>Compiling takes a few seconds; a child still at it after this is stuck.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>How the child prints the compiled templates.</summary>
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The child's exit code when a template does not compile (its message names the template).</summary>
    public const int TemplateDoesNotCompile = 4;

    /// <summary>
    /// What children compiled in this process, by <see cref="ContentKey"/>: hosts built in one process (the integration
    /// tests, the relevance replay) ask for the same templates, and one child is enough for them all.
    /// </summary>
    private static readonly ConcurrentDictionary<string, IReadOnlyList<CompiledTemplate>> CompiledInThisProcess = new(StringComparer.Ordinal);

    /// <summary>
    /// Every template under the root, compiled by a child, or by an earlier child of this process when the templates
    /// (every file under the root) and the command are the same. Throws with the child's message when a template does
    /// not compile; null (logged) when the child could not start, failed otherwise or overran, so the caller compiles
    /// them itself.
    /// </summary>
    public async Task<IReadOnlyList<CompiledTemplate>?> CompileAsync(CancellationToken ct)
    {
        var key = ContentKey();
        if (CompiledInThisProcess.TryGetValue(key, out var earlier))
        {
            LogReused(_logger, earlier.Count);
            return earlier;
        }
        var compiled = await CompileInChildAsync(ct).ConfigureAwait(false);
        if (compiled is not null)
        {
            CompiledInThisProcess.TryAdd(key, compiled);
        }
        return compiled;
    }

    /// <summary>A digest of the command and of every file under the root, by path: a changed template is compiled again.</summary>
    private string ContentKey()
    {
        var root = _options.Value.ResolvedRoot;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // Each piece with its length first, so no two lists of pieces hash alike.
        void AddBytes(byte[] bytes)
        {
            hash.AppendData(BitConverter.GetBytes(bytes.Length));
            hash.AppendData(bytes);
        }
        void Add(string text) => AddBytes(Encoding.UTF8.GetBytes(text));
        Add(_command.FileName);
        foreach (var argument in _command.Arguments)
        {
            Add(argument);
        }
        Add(Path.GetFullPath(root));
        if (Directory.Exists(root))
        {
            foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Select(path => Path.GetRelativePath(root, path))
                .Order(StringComparer.Ordinal))
            {
                Add(file);
                AddBytes(File.ReadAllBytes(Path.Combine(root, file)));
            }
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private async Task<IReadOnlyList<CompiledTemplate>?> CompileInChildAsync(CancellationToken ct)
    {
        var (fileName, arguments) = _command;
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        info.ArgumentList.Add(_options.Value.ResolvedRoot);

        var started = Stopwatch.GetTimestamp();
        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            LogNoChild(_logger, ex, fileName);
            return null;
        }
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(Timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            LogChildFailed(_logger, $"it did not finish in {Timeout}");
            return null;
        }

        var log = (await errors.ConfigureAwait(false)).Trim();
        if (process.ExitCode == TemplateDoesNotCompile)
        {
            throw new InvalidOperationException(log);
        }
        if (process.ExitCode != 0)
        {
            LogChildFailed(_logger, $"it exited with {process.ExitCode}: {log}");
            return null;
        }
        if (log.Length > 0)
        {
            // What the child warned about (the CSS inliner's warnings, for one).
            LogChildSaid(_logger, log);
        }
        List<CompiledTemplate>? compiled;
        try
        {
            compiled = JsonSerializer.Deserialize<List<CompiledTemplate>>(await output.ConfigureAwait(false), Json);
        }
        catch (JsonException ex)
        {
            LogChildFailed(_logger, $"what it printed is not a list of templates: {ex.Message}");
            return null;
        }
        if (compiled is null)
        {
            LogChildFailed(_logger, "it printed no templates");
            return null;
        }
        LogCompiled(_logger, compiled.Count, process.Id, Stopwatch.GetElapsedTime(started));
        return compiled;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The template compiler {Program} did not start: this process compiles the templates itself")]
    private static partial void LogNoChild(ILogger logger, Exception ex, string program);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The template compiler failed ({Reason}): this process compiles the templates itself")]
    private static partial void LogChildFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Compiling the templates: {Log}")]
    private static partial void LogChildSaid(ILogger logger, string log);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} templates compiled by process {ProcessId} in {Elapsed}")]
    private static partial void LogCompiled(ILogger logger, int count, int processId, TimeSpan elapsed);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} templates as a child compiled them earlier in this process (the same files)")]
    private static partial void LogReused(ILogger logger, int count);
}
