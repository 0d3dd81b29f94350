using System.Diagnostics;

namespace Newsletter.IntegrationTests.Support;

/// <summary>The built application run once as a command (`newsletter migrate`, `newsletter resend ...`), as an operator runs it.</summary>
internal static class AppCommand
{
    /// <summary>
    /// Runs the built application with these settings as environment variables, until it exits; from the application's
    /// folder (as the units and the docs run it) unless <paramref name="workingDirectory"/> says otherwise, in the
    /// Production environment unless <paramref name="environment"/> sets or (null) removes its variables.
    /// </summary>
    public static async Task<(int ExitCode, string Output, List<string> Errors)> RunAsync(string[] args, IReadOnlyDictionary<string, string?> settings,
        string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(WorkerProcess.ApplicationDll())!,
        };
        info.ArgumentList.Add(WorkerProcess.ApplicationDll());
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value ?? "";
        }
        info.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync(Ct);
        var errors = process.StandardError.ReadToEndAsync(Ct);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"newsletter {string.Join(' ', args)} still runs after 2 minutes.\n{await output}");
        }
        return (process.ExitCode, await output, [.. (await errors).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]);
    }
}
