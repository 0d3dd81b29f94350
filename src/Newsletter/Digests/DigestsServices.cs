using Hangfire;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Newsletter.Hosting;
using Newsletter.Jobs;
using Newsletter.Mail;

namespace Newsletter.Digests;

/// <summary>Digests: the fan-out, the send batches and their ledger, rendering, re-sends and recovery.</summary>
public static class DigestsServices
{
    public static IServiceCollection AddDigests(this IServiceCollection services, ProcessRole? role)
    {
        services.AddSiteLinks();
        services.AddOptionsWithValidateOnStart<DeliveryOptions>().BindConfiguration(DeliveryOptions.Section).ValidateDataAnnotations();
        services.AddSingleton(provider => new DigestRenderer(
            provider.GetRequiredService<EmailTemplates>(), provider.GetRequiredService<IOptions<TemplateOptions>>().Value.PaperBlockCacheMegabytes));
        services.AddSingleton<DigestComposer>();
        services.TryAddSingleton<ReturnPaths>(); // the inbox's bounce reports check them too
        services.AddSingleton<DigestBuilder>();
        services.AddSingleton<DeliveryLedger>();
        services.AddSingleton<DeliveryGenerations>();
        services.AddSingleton<DigestRateLimiter>();
        services.AddSingleton<Resender>();
        services.AddSingleton<DigestPlanner>();
        services.AddTransient<FanOutJob>();
        services.AddTransient<WeeklyDigestJob>();
        services.AddTransient<SendBatchJob>();
        services.AddTransient<DeliveryRecoveryJob>();
        if (role.RunsJobs())
        {
            // The send queue's worker count is the number of SMTP connections this process keeps open.
            services.AddJobServer(SendBatchJob.Queue, provider => provider.GetRequiredService<IOptions<SmtpOptions>>().Value.Connections);
            services.AddRecurringJob((recurring, _) => recurring.AddOrUpdate<DeliveryRecoveryJob>(DeliveryRecoveryJob.RecurringJobId,
                job => job.RunAsync(CancellationToken.None), "*/5 * * * *"));
            // Each reader's hour comes in their own time zone; a run finds whoever is due, and is a no-op otherwise.
            services.AddRecurringJob((recurring, _) => recurring.AddOrUpdate<WeeklyDigestJob>(WeeklyDigestJob.RecurringJobId,
                job => job.RunAsync(CancellationToken.None), "*/5 * * * *"));
            services.AddHostedService<DigestTemplateWarmUp>();
        }
        return services;
    }
}
