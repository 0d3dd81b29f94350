using System.CommandLine;
using Microsoft.Extensions.Options;

namespace Newsletter.Database;

/// <summary><c>newsletter migrate</c>: needs only the connection string, and passes the checks every process makes of its settings.</summary>
public static class DatabaseCommands
{
    /// <param name="newHostBuilder">Makes the host builder every verb starts from (its settings' sources).</param>
    /// <param name="settingsChecks">Registers what every process validates first (the deploy examples' placeholders).</param>
    public static Command Migrate(Func<HostApplicationBuilder> newHostBuilder, Action<IServiceCollection> settingsChecks)
    {
        ArgumentNullException.ThrowIfNull(newHostBuilder);
        ArgumentNullException.ThrowIfNull(settingsChecks);
        var command = new Command("migrate", "Create or upgrade the database schema, then exit.");
        command.SetAction(async (result, ct) =>
        {
            var builder = newHostBuilder();
            settingsChecks(builder.Services);
            using var host = builder.Build();
            // The units run this first: a setting every other process refuses stops it too.
            host.Services.GetService<IStartupValidator>()?.Validate();
            await Migrator.MigrateAsync(ConnectionStrings.Require(builder.Configuration),
                host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Migrations"), ct);
            Console.Out.WriteLine("The database is up to date.");
            return 0;
        });
        return command;
    }
}
