using System.CommandLine;

namespace Newsletter.Hosting;

/// <summary>What the verbs do alike: refuse a file that is not there, and run one operation on a tool host.</summary>
public static class Verbs
{
    /// <summary>
    /// An action that runs <paramref name="action"/> on the file <paramref name="file"/> names, or, when there is no such
    /// file, says so as <c>newsletter VERB: PATH: no such file</c> and exits with 2.
    /// </summary>
    public static Func<ParseResult, CancellationToken, Task<int>> OnExistingFile(
        string verb, Argument<FileInfo> file, Func<FileInfo, CancellationToken, Task<int>> action) =>
        async (result, ct) =>
        {
            var path = result.GetValue(file)!;
            if (!path.Exists)
            {
                await Console.Error.WriteLineAsync($"newsletter {verb}: {path.FullName}: no such file");
                return 2;
            }
            return await action(path, ct);
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
