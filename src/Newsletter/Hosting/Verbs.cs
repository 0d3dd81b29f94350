using System.CommandLine;

namespace Newsletter.Hosting;

/// <summary>What the verbs do alike: say what went wrong, refuse a file that is not there, run one operation on a tool host.</summary>
public static class Verbs
{
    /// <summary>Says what went wrong as <c>newsletter VERB: MESSAGE</c> on standard error; returns the exit code to end with.</summary>
    public static async Task<int> FailAsync(string verb, string message, int exitCode)
    {
        await Console.Error.WriteLineAsync($"newsletter {verb}: {message}");
        return exitCode;
    }

    /// <summary>
    /// An action that runs <paramref name="action"/> on the file <paramref name="file"/> names, or, when there is no such
    /// file, says so as <c>newsletter VERB: PATH: no such file</c> and exits with 2.
    /// </summary>
    public static Func<ParseResult, CancellationToken, Task<int>> OnExistingFile(
        string verb, Argument<FileInfo> file, Func<FileInfo, CancellationToken, Task<int>> action) =>
        async (result, ct) =>
        {
            var path = result.GetValue(file)!;
            return path.Exists ? await action(path, ct) : await FailAsync(verb, $"{path.FullName}: no such file", 2);
        };

    /// <summary>
    /// Builds a tool host with only <paramref name="features"/> (<see cref="NewsletterServer.BuildToolHostAsync"/>),
    /// runs <paramref name="operation"/> on its services and returns the exit code it gives.
    /// </summary>
    public static async Task<int> RunAsync(Action<IServiceCollection> features, Func<IServiceProvider, Task<int>> operation, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(operation);
        using var host = await NewsletterServer.BuildToolHostAsync(features, ct);
        return await operation(host.Services);
    }
}
