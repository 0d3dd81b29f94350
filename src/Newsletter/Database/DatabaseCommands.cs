using System.CommandLine;

namespace Newsletter.Database;

/// <summary><c>newsletter migrate</c>: needs only the connection string.</summary>
public static class DatabaseCommands
{
    public static Command Migrate()
    {
        var command = new Command("migrate", "Create or upgrade the database schema, then exit.");
        command.SetAction(async (result, ct) =>
        {
            var builder = Host.CreateApplicationBuilder();
            using var host = builder.Build();
            await Migrator.MigrateAsync(ConnectionStrings.Require(builder.Configuration),
                host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Migrations"), ct);
            Console.Out.WriteLine("The database is up to date.");
            return 0;
        });
        return command;
    }
}
