using System.CommandLine;
using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using Newsletter.Database;
using Newsletter.Development;
using Newsletter.Hosting;

namespace Newsletter;

/// <summary>Builds the web server and the worker from every feature (the composition root, with Program.cs).</summary>
public static class NewsletterServer
{
    /// <summary>
    /// Runs the command line. A configuration error, from the server or any verb, ends it with one line per mistake
    /// naming the key (<see cref="ConfigurationErrors"/>) and exit code <see cref="ConfigurationErrors.ExitCode"/>.
    /// </summary>
    public static async Task<int> InvokeAsync(ParseResult command)
    {
        ArgumentNullException.ThrowIfNull(command);
        try
        {
            return await command.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (ConfigurationErrors.Describe(ex) is { } mistakes)
        {
            foreach (var mistake in mistakes)
            {
                await Console.Error.WriteLineAsync($"newsletter: {mistake}");
            }
            return ConfigurationErrors.ExitCode;
        }
        catch (DatabaseUnavailableException ex)
        {
            // Not a configuration error: the database may still be starting, and the units restart on this code.
            await Console.Error.WriteLineAsync($"newsletter: {ex.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            return 130; // stopped by Ctrl+C or SIGTERM before it finished
        }
        catch (Exception ex)
        {
            // What System.CommandLine's own handler did: the whole exception, for a bug report.
            await Console.Error.WriteLineAsync($"Unhandled exception: {ex}");
            return 1;
        }
    }

    /// <summary>The root command: with no verb it serves (<c>--role all|web|worker</c>); the verbs are added to it.</summary>
    public static RootCommand Command()
    {
        var role = Verbs.OneOf<ProcessRole>("--role", "What this process runs: all (the default), web or worker.");
        var root = new RootCommand("Newsletter: personal research digests from a trending-papers email.") { role };
        // ASP.NET Core's own switches (--urls, --environment, ...) pass through to the web host.
        root.TreatUnmatchedTokensAsErrors = false;
        root.SetAction((result, ct) => RunAsync(result.UnmatchedTokens.ToArray(), result.GetValue(role) ?? ProcessRole.All, ct));
        return root;
    }

    public static async Task<int> RunAsync(string[] args, ProcessRole role, CancellationToken ct)
    {
        // Until the embedded database has stopped, a stop signal ends the start or the run, never the process mid-way.
        using var signals = new StopSignals(ct);
        ct = signals.Token;
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
        builder.Services.AddNewsletter(builder.Configuration, role);

        var app = builder.Build();
        if (!File.Exists(Path.Combine(app.Environment.ContentRootPath, "appsettings.json")))
        {
            // Started from another folder: the shipped defaults (log levels, intervals) are not read. Say so.
            app.Logger.LogWarning("No appsettings.json in {ContentRoot}: start from the application folder or pass --contentRoot",
                app.Environment.ContentRootPath);
        }
        // Before anything touches the database: a wrong setting stops here, with the key named (ConfigurationErrors).
        app.Services.GetRequiredService<IStartupValidator>().Validate();
        UseTrustedProxies(app);
        if (((ProcessRole?)role).ServesSite())
        {
            // After the proxy's headers are read: left to the host, these run first and see the proxy as the client.
            app.UseAuthentication();
            app.UseAuthorization();
        }
        await Migrator.MigrateAsync(ConnectionStrings.Require(builder.Configuration), app.Logger, ct);
        app.MapNewsletter(role);
        return app;
    }

    /// <summary>
    /// Behind a reverse proxy every request comes from the proxy: with <c>Newsletter:Web:TrustedProxies</c> listing its
    /// addresses, the client address (rate limits) and scheme come from its X-Forwarded-* headers, and only from it.
    /// </summary>
    private static void UseTrustedProxies(WebApplication app)
    {
        const string key = "Newsletter:Web:TrustedProxies";
        var section = app.Configuration.GetSection(key);
        // A list (TrustedProxies:0, :1 ...) or one value of addresses separated by commas (an environment variable).
        var proxies = section.Get<string[]>() ?? section.Value?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];
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
}
