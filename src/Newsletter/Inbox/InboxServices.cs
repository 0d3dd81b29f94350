using DnsClient;
using Hangfire;
using MimeKit.Cryptography;
using Microsoft.Extensions.Options;
using Newsletter.Bounces;
using Newsletter.Hosting;
using Newsletter.Jobs;

namespace Newsletter.Inbox;

/// <summary>Mail in: which senders are trusted, the listing parser, the ingestor, and the mailbox poller.</summary>
public static class InboxServices
{
    /// <summary>Judging and storing one message (the <c>ingest</c> verb needs no mailbox).</summary>
    public static IServiceCollection AddInboxIngestion(this IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<InboxOptions>().BindConfiguration(InboxOptions.Section).ValidateDataAnnotations();
        services.AddSingleton<IValidateOptions<InboxOptions>, InboxOptionsValidator>();
        services.AddSingleton<ILookupClient>(_ => new LookupClient());
        services.AddSingleton<IDkimPublicKeyLocator, DnsDkimPublicKeyLocator>();
        services.AddSingleton<SenderPolicy>();
        services.AddSingleton<InboxTrustWarnings>();
        services.AddSingleton<TrendingEmailParser>();
        services.AddSingleton<MessageIngestor>();
        services.AddBounces();
        return services;
    }

    /// <summary>Ingestion and the mailbox it reads; a process that runs jobs also polls on schedule and watches with IDLE.</summary>
    public static IServiceCollection AddInbox(this IServiceCollection services, ProcessRole? role)
    {
        services.AddInboxIngestion();
        services.AddOptionsWithValidateOnStart<ImapOptions>().BindConfiguration(ImapOptions.Section).ValidateDataAnnotations();
        services.AddSingleton<IValidateOptions<ImapOptions>, InboxSettingsValidator>();
        services.AddSingleton<MailboxOpener>();
        services.AddHealthChecks().AddCheck<ImapReadiness>("imap", tags: ["ready"]);
        services.AddSingleton<InboxPoller>();
        services.AddTransient<QuarantineReleaseJob>();
        services.AddTransient<QuarantineRetentionJob>();
        services.AddTransient<ReportRetentionJob>();
        services.AddHostedService<InboxTrustWarningLog>();
        if (role.RunsJobs())
        {
            services.AddRecurringJob((recurring, _) => recurring.AddOrUpdate<QuarantineRetentionJob>(QuarantineRetentionJob.RecurringJobId,
                job => job.RunAsync(CancellationToken.None), "17 * * * *"));
            services.AddRecurringJob((recurring, _) => recurring.AddOrUpdate<ReportRetentionJob>(ReportRetentionJob.RecurringJobId,
                job => job.RunAsync(CancellationToken.None), "47 * * * *"));
            services.AddRecurringJob((recurring, provider) => recurring.AddOrUpdate<InboxPoller>(InboxPoller.RecurringJobId,
                poller => poller.RunAsync(CancellationToken.None),
                BackgroundJobs.CronFor(provider.GetRequiredService<IOptions<InboxOptions>>().Value.PollInterval)));
            services.AddHostedService<InboxIdleWatcher>();
        }
        return services;
    }
}
