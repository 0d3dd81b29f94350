using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Newsletter.Database;
using Newsletter.Subscribers;

namespace Newsletter.Development;

/// <summary>
/// What makes `dotnet run` work on a fresh machine: in Development, with no connection string, a private PostgreSQL
/// under .data/, a drop folder seeded with the sample listing instead of IMAP, a pickup folder instead of SMTP, and a
/// few demo subscribers. Nothing here runs outside Development.
/// </summary>
public static class DevelopmentDefaults
{
    /// <summary>Fills in what Development leaves unset; returns the embedded database to stop on exit, if one was started.</summary>
    public static async Task<EmbeddedPostgres?> ApplyAsync(IHostEnvironment environment, ConfigurationManager configuration, CancellationToken ct)
    {
        if (!environment.IsDevelopment())
        {
            return null;
        }

        var data = Path.GetFullPath(configuration["Newsletter:Development:DataFolder"] ?? Path.Combine(environment.ContentRootPath, ".data"));
        var inbox = Path.Combine(data, "inbox");
        SetIfMissing(configuration, "Newsletter:Inbox:DropFolder", inbox);
        SetIfMissing(configuration, "Newsletter:Smtp:PickupFolder", Path.Combine(data, "outbox"));
        SeedInbox(inbox, Path.Combine(data, "inbox-seeded"));

        if (!string.IsNullOrWhiteSpace(configuration.GetConnectionString("Newsletter")))
        {
            return null;
        }
        using var logging = LoggerFactory.Create(builder => builder.AddSimpleConsole());
        var embedded = await EmbeddedPostgres.StartAsync(Path.Combine(data, "postgres"), logging.CreateLogger<EmbeddedPostgres>(), ct);
        configuration["ConnectionStrings:Newsletter"] = embedded.ConnectionString;
        return embedded;
    }

    /// <summary>A few subscribers with different interests, so the first fan-out has someone to write to.</summary>
    public static async Task SeedSubscribersAsync(IServiceProvider services, CancellationToken ct)
    {
        var store = services.GetRequiredService<SubscriberStore>();
        if (await store.CountAsync(ct) > 0)
        {
            return;
        }
        await store.UpsertAsync("ada@example.org", "diffusion", SubscriberStatus.Active, DigestFormat.Html, ct);
        await store.UpsertAsync("grace@example.org", "\"low-rank\" OR LoRA -medical", SubscriberStatus.Active, DigestFormat.Html, ct);
        await store.UpsertAsync("alan@example.org", "ensemble OR \"uncertainty estimation\"", SubscriberStatus.Active, DigestFormat.Text, ct);
    }

    /// <summary>Prints where to look once the server listens.</summary>
    public static void PrintWelcome(WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "http://localhost:5000";
            var configuration = app.Configuration;
            app.Logger.LogWarning(
                """
                Newsletter is running (Development).
                  Site:        {Site}
                  Admin:       {Admin}/admin  (the admin password is logged above)
                  Hangfire:    {Admin}/admin/jobs
                  Inbox:       {Inbox}  (drop .eml files here)
                  Digests:     {Outbox}  (one .eml per digest)
                """,
                address, address, address, configuration["Newsletter:Inbox:DropFolder"], configuration["Newsletter:Smtp:PickupFolder"]);
        });
    }

    private static void SetIfMissing(ConfigurationManager configuration, string key, string value)
    {
        if (string.IsNullOrWhiteSpace(configuration[key]))
        {
            configuration[key] = value;
        }
    }

    /// <summary>The sample listing goes into the drop folder on the first run only; a marker remembers that it did.</summary>
    private static void SeedInbox(string inbox, string marker)
    {
        if (File.Exists(marker))
        {
            return;
        }
        Directory.CreateDirectory(inbox);
        using (var sample = typeof(DevelopmentDefaults).Assembly.GetManifestResourceStream("Newsletter.Development.sample-listing.eml")!)
        using (var file = File.Create(Path.Combine(inbox, "trending-papers-2025-03-11.eml")))
        {
            sample.CopyTo(file);
        }
        File.WriteAllText(marker, "The sample listing was copied into the inbox on the first run.\n");
    }
}
