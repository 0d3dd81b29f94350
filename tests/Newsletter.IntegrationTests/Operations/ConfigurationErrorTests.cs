using System.Diagnostics;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Xunit;

namespace Newsletter.IntegrationTests.Operations;

/// <summary>
/// A configuration mistake, in the server or in any verb, ends the process with a non-zero code and one line per
/// mistake that names the key and says what is wrong: no stack trace to read through.
/// </summary>
public sealed class ConfigurationErrorTests
{
    [Theory]
    [InlineData("server", "Newsletter:Smtp:Port", "0")]
    [InlineData("server", "Newsletter:Smtp:Port", "not-a-number")]
    [InlineData("server", "Newsletter:Admin:Password", "change-me")]
    [InlineData("subscribers list", "Newsletter:Jobs:PollInterval", "soon")]
    [InlineData("migrate", "ConnectionStrings:Newsletter", "")]
    public async Task Newsletter_OneSettingWrong_ExitsNonZeroWithOneLineNamingIt(string verb, string key, string value)
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        var settings = TestApp.DefaultSettings(database.ConnectionString);
        settings[key] = value;
        string[] args = verb == "server" ? ["--role", "web"] : verb.Split(' ');

        var (exitCode, output, errors) = await RunAsync(args, settings);

        Assert.True(exitCode != 0, $"exit code {exitCode}; output:\n{output}");
        var line = Assert.Single(errors);
        Assert.Contains(key, line, StringComparison.Ordinal);
        Assert.DoesNotContain(output.Split('\n').Concat(errors), l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
    }

    /// <summary>Runs the built application with these settings as environment variables, until it exits.</summary>
    private static async Task<(int ExitCode, string Output, List<string> Errors)> RunAsync(string[] args, Dictionary<string, string?> settings)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
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
            throw new TimeoutException($"newsletter {string.Join(' ', args)} still runs after 2 minutes: a wrong setting let it start.\n{await output}");
        }
        return (process.ExitCode, await output, [.. (await errors).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]);
    }
}
