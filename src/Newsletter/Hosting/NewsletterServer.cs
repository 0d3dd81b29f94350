using Newsletter.Database;

namespace Newsletter.Hosting;

/// <summary>Builds the web server and worker, and the smaller host the CLI verbs use.</summary>
public static class NewsletterServer
{
    public static async Task<int> RunAsync(string[] args, ProcessRole role, CancellationToken ct)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddNewsletter(builder.Configuration);
        if (role is ProcessRole.All or ProcessRole.Worker)
        {
            builder.Services.AddNewsletterWorker();
        }

        var app = builder.Build();
        await Migrator.MigrateAsync(builder.Configuration.GetConnectionString("Newsletter")!, app.Logger, ct);
        app.MapGet("/healthz", () => Results.Text("ok"));
        await app.RunAsync(ct);
        return 0;
    }

    /// <summary>A host with the application's services and configuration but no web server or job processing.</summary>
    public static async Task<IHost> BuildToolHostAsync(CancellationToken ct, bool migrate = true)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddNewsletter(builder.Configuration);
        var host = builder.Build();
        // A tool host is never started, so ValidateOnStart would not run: validate here, with the same messages.
        host.Services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();
        if (migrate)
        {
            await Migrator.MigrateAsync(builder.Configuration.GetConnectionString("Newsletter")!,
                host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Migrations"), ct);
        }
        return host;
    }
}
