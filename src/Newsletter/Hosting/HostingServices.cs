using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace Newsletter.Hosting;

/// <summary>Which parts of the application this process runs; any number of each share one PostgreSQL.</summary>
public enum ProcessRole
{
    All,
    Web,
    Worker,
}

public static class ProcessRoles
{
    /// <summary>The site, the admin area and the API.</summary>
    public static bool ServesSite(this ProcessRole? role) => role is ProcessRole.All or ProcessRole.Web;

    /// <summary>Hangfire's servers, the recurring jobs and the inbox's IDLE watch.</summary>
    public static bool RunsJobs(this ProcessRole? role) => role is ProcessRole.All or ProcessRole.Worker;
}

/// <summary>What every process needs whatever its features: the clock, metrics, legacy charsets.</summary>
public static class HostingServices
{
    public static IServiceCollection AddHosting(this IServiceCollection services)
    {
        // Listings arrive in legacy charsets too; MimeKit needs the code pages registered to decode them.
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        services.TryAddSingleton(TimeProvider.System); // a test may have registered a fake clock first
        services.AddMetrics();
        services.AddSingleton<NewsletterMetrics>();
        PlaceholderSettings.Register(services);
        return services;
    }

    /// <summary><c>Newsletter:PublicBaseUrl</c>, for the features that write links; validated at start, once however many ask.</summary>
    public static IServiceCollection AddSiteLinks(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(SiteLinksRegistered)))
        {
            services.AddSingleton<SiteLinksRegistered>();
            services.AddOptionsWithValidateOnStart<SiteOptions>().BindConfiguration(SiteOptions.Section).ValidateDataAnnotations();
        }
        return services;
    }

    /// <summary>
    /// The keys that sign antiforgery tokens and admin cookies, kept in PostgreSQL so every web process shares them, and
    /// encrypted there to <c>Newsletter:DataProtection:CertificatePath</c> when one is configured.
    /// </summary>
    public static IServiceCollection AddDataProtectionKeys(this IServiceCollection services, IConfiguration configuration)
    {
        var protection = services.AddDataProtection().SetApplicationName("Newsletter");
        services.AddOptions<KeyManagementOptions>()
            .Configure<NpgsqlDataSource>((keys, db) => keys.XmlRepository = new PostgresXmlRepository(db));
        if (DataProtectionCertificate.Load(configuration, out var problem) is { } certificate)
        {
            protection.ProtectKeysWithCertificate(certificate);
        }
        else if (problem is not null)
        {
            DataProtectionCertificate.Require(services, problem);
        }
        return services;
    }

    /// <summary>/healthz: the process answers (liveness). /readyz: it can reach PostgreSQL, and the servers features add (IMAP, SMTP).</summary>
    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<PostgresReadiness>("postgresql", tags: ["ready"]);
        services.AddSingleton<ReadinessCache>();
        return services;
    }

    /// <summary>The endpoints of <see cref="AddHealth"/>; /readyz answers through <see cref="ReadinessReport"/>.</summary>
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapGet("/readyz", ReadinessReport.AnswerAsync);
        return app;
    }

    private sealed class SiteLinksRegistered;
}
