using System.Net;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using Newsletter.Admin;
using Newsletter.Database;
using Newsletter.Development;
using Newsletter.Web;

namespace Newsletter.Hosting;

/// <summary>Builds the web server and worker, and the smaller host the CLI verbs use.</summary>
public static class NewsletterServer
{
    public static async Task<int> RunAsync(string[] args, ProcessRole role, CancellationToken ct)
    {
        EmbeddedPostgres? embedded = null;
        try
        {
            await using var app = await BuildAsync(args, role, async builder =>
                embedded = await DevelopmentDefaults.ApplyAsync(builder.Environment, builder.Configuration, ct), ct);
            if (app.Environment.IsDevelopment())
            {
                await DevelopmentDefaults.SeedSubscribersAsync(app.Services, ct);
                DevelopmentDefaults.PrintWelcome(app);
            }
            await app.RunAsync(ct);
            return 0;
        }
        finally
        {
            // After the host has stopped, so Hangfire drains its jobs against a live database.
            if (embedded is not null)
            {
                await embedded.DisposeAsync();
            }
        }
    }

    /// <summary>The whole application for one role, migrated and ready to start; tests add their own configuration.</summary>
    public static async Task<WebApplication> BuildAsync(string[] args, ProcessRole role, Func<WebApplicationBuilder, Task>? configure, CancellationToken ct)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (configure is not null)
        {
            await configure(builder);
        }
        builder.Services.AddNewsletter(builder.Configuration);
        builder.Services.AddNewsletterWeb(builder.Configuration);
        builder.Services.AddNewsletterAdmin(builder.Configuration);
        if (role is ProcessRole.All or ProcessRole.Worker)
        {
            builder.Services.AddNewsletterWorker();
        }

        var app = builder.Build();
        if (!File.Exists(Path.Combine(app.Environment.ContentRootPath, "appsettings.json")))
        {
            // Started from another folder: the shipped defaults (log levels, intervals) are not read. Say so.
            app.Logger.LogWarning("No appsettings.json in {ContentRoot}: start from the application folder or pass --contentRoot",
                app.Environment.ContentRootPath);
        }
        UseTrustedProxies(app);
        await Migrator.MigrateAsync(builder.Configuration.GetConnectionString("Newsletter")!, app.Logger, ct);
        // /healthz: the process answers (liveness). /readyz: it can reach PostgreSQL and the mail servers.
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready"), ResponseWriter = ReadinessReport.WriteAsync });
        app.MapNewsletterWeb();
        app.MapNewsletterAdmin();
        return app;
    }

    /// <summary>
    /// Behind a reverse proxy every request comes from the proxy: with <c>Newsletter:Web:TrustedProxies</c> listing its
    /// addresses, the client address (rate limits) and scheme come from its X-Forwarded-* headers, and only from it.
    /// </summary>
    private static void UseTrustedProxies(WebApplication app)
    {
        const string key = "Newsletter:Web:TrustedProxies";
        var proxies = app.Configuration.GetSection(key).Get<string[]>() ?? [];
        if (proxies.Length == 0)
        {
            return;
        }
        var options = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto };
        foreach (var proxy in proxies)
        {
            options.KnownProxies.Add(IPAddress.TryParse(proxy, out var address)
                ? address
                : throw new OptionsValidationException(key, typeof(string[]), [$"{key} has '{proxy}', which is not an IP address."]));
        }
        app.UseForwardedHeaders(options);
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
