using System.CommandLine;
using Microsoft.Extensions.Options;
using Newsletter.Database;
using Newsletter.Jobs;

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
    /// An option naming one member of <typeparamref name="T"/>, in any case (<see cref="DbNames.TryParse{T}"/>); a number or a
    /// list, which System.CommandLine's own enum parsing takes ("active,paused" is another member), is a parse error.
    /// </summary>
    public static Option<T?> OneOf<T>(string name, string description) where T : struct, Enum => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var word = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Join(' ', result.Tokens.Select(t => t.Value));
            if (DbNames.TryParse<T>(word, out var value))
            {
                return value;
            }
            result.AddError($"{name}: '{word}' is not one of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}.");
            return null;
        },
    };

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
    /// Builds a tool host with only <paramref name="features"/> (<see cref="BuildToolHostAsync"/>),
    /// runs <paramref name="operation"/> on its services and returns the exit code it gives.
    /// </summary>
    public static async Task<int> RunAsync(Action<IServiceCollection> features, Func<IServiceProvider, Task<int>> operation, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(operation);
        using var host = await BuildToolHostAsync(features, migrate: true, ct);
        return await operation(host.Services);
    }

    /// <summary>
    /// <see cref="RunAsync"/> for a verb only a running service starts (the service migrated the database at its start):
    /// the database is not checked for migrations first.
    /// </summary>
    public static async Task<int> RunWithoutMigrationAsync(Action<IServiceCollection> features, Func<IServiceProvider, Task<int>> operation, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(operation);
        using var host = await BuildToolHostAsync(features, migrate: false, ct);
        return await operation(host.Services);
    }

    /// <summary>
    /// A verb's host builder, reading settings as the server does: the environment named by <c>ASPNETCORE_ENVIRONMENT</c>
    /// (before <c>DOTNET_ENVIRONMENT</c>), and a warning on standard error, where no output a script reads goes, when the
    /// working folder has no <c>appsettings.json</c>.
    /// </summary>
    public static HostApplicationBuilder NewHostBuilder()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            EnvironmentName = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") is { Length: > 0 } named ? named : null,
        });
        var folder = builder.Environment.ContentRootPath;
        if (!File.Exists(Path.Combine(folder, "appsettings.json")))
        {
            Console.Error.WriteLine($"newsletter: warning: no appsettings.json in {folder.TrimEnd(Path.DirectorySeparatorChar)}: the shipped defaults are not read; run from the application folder.");
        }
        return builder;
    }

    /// <summary>
    /// A host for one CLI verb: the database, the job client and the <paramref name="features"/> the verb uses, so it
    /// needs only their configuration. No web server, no job processing; migrated before the verb runs when <paramref name="migrate"/>.
    /// </summary>
    private static async Task<IHost> BuildToolHostAsync(Action<IServiceCollection> features, bool migrate, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(features);
        var builder = NewHostBuilder();
        builder.Services.AddHosting().AddDatabase(builder.Configuration).AddBackgroundJobs(builder.Configuration, runsJobs: false);
        features(builder.Services);
        var host = builder.Build();
        // A tool host is never started, so ValidateOnStart would not run: validate here, with the same messages.
        host.Services.GetRequiredService<IStartupValidator>().Validate();
        if (migrate)
        {
            await Migrator.MigrateAsync(ConnectionStrings.Require(builder.Configuration),
                host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Migrations"), ct);
        }
        return host;
    }
}
