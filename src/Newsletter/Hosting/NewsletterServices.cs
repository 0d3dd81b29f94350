using System.Text;
using DnsClient;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Options;
using MimeKit.Cryptography;
using Newsletter.Database;
using Newsletter.Digests;
using Newsletter.Inbox;
using Newsletter.Papers;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Hosting;

/// <summary>Which parts of the application this process runs; any number of each share one PostgreSQL.</summary>
public enum ProcessRole
{
    All,
    Web,
    Worker,
}

public static class NewsletterServices
{
    /// <summary>Everything the server, the worker and the CLI verbs share. Options are validated when the host starts.</summary>
    public static IServiceCollection AddNewsletter(this IServiceCollection services, IConfiguration configuration)
    {
        // Listings arrive in legacy charsets too; MimeKit needs the code pages registered to decode them.
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

        var connectionString = configuration.GetConnectionString("Newsletter");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new OptionsValidationException(ConnectionStrings.Key, typeof(string),
                [$"{ConnectionStrings.Key} is required: the PostgreSQL connection string, e.g. \"Host=db;Database=newsletter;Username=newsletter;Password=...\"."]);
        }

        services.AddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<NewsletterMetrics>();
        services.AddHealthChecks()
            .AddCheck<PostgresReadiness>("postgresql", tags: ["ready"])
            .AddCheck<MailServersReadiness>("mail-servers", tags: ["ready"]);
        services.AddSingleton(_ => BuildDataSource(connectionString, sessionOptions: null));
        services.AddKeyedSingleton(DeliveryLedger.AsyncCommit, (_, _) => BuildDataSource(connectionString, "-c synchronous_commit=off"));
        services.AddDataProtection().SetApplicationName("Newsletter");
        services.AddOptions<KeyManagementOptions>()
            .Configure<NpgsqlDataSource>((keys, db) => keys.XmlRepository = new PostgresXmlRepository(db));

        services.AddOptionsWithValidateOnStart<InboxOptions>().BindConfiguration(InboxOptions.Section).ValidateDataAnnotations();
        services.AddOptionsWithValidateOnStart<ImapOptions>().BindConfiguration(ImapOptions.Section).ValidateDataAnnotations();
        services.AddSingleton<IValidateOptions<InboxOptions>, InboxOptionsValidator>();
        services.AddSingleton<IValidateOptions<ImapOptions>, InboxSettingsValidator>();

        services.AddSingleton<ILookupClient>(_ => new LookupClient());
        services.AddSingleton<IDkimPublicKeyLocator, DnsDkimPublicKeyLocator>();
        services.AddSingleton<SenderPolicy>();
        services.AddSingleton<InboxTrustWarnings>();
        services.AddHostedService<InboxTrustWarningLog>();
        services.AddSingleton<TrendingEmailParser>();
        services.AddSingleton<MessageIngestor>();
        services.AddSingleton<MailboxOpener>();
        services.AddSingleton<InboxPoller>();
        services.AddTransient<QuarantineReleaseJob>();
        services.AddTransient<QuarantineRetentionJob>();
        services.AddSingleton<PaperStore>();

        services.AddOptionsWithValidateOnStart<SiteOptions>().BindConfiguration(SiteOptions.Section).ValidateDataAnnotations();
        services.AddOptionsWithValidateOnStart<SmtpOptions>().BindConfiguration(SmtpOptions.Section).ValidateDataAnnotations();
        services.AddOptionsWithValidateOnStart<DeliveryOptions>().BindConfiguration(DeliveryOptions.Section).ValidateDataAnnotations();
        services.AddSingleton<IValidateOptions<SmtpOptions>, SmtpSettingsValidator>();
        services.AddOptionsWithValidateOnStart<MailOptions>().BindConfiguration(MailOptions.Section).ValidateDataAnnotations();
        services.AddOptionsWithValidateOnStart<TemplateOptions>().BindConfiguration(TemplateOptions.Section).ValidateDataAnnotations();
        services.AddSingleton<EmailTemplates>();
        services.AddSingleton(sp => new DigestRenderer(
            sp.GetRequiredService<EmailTemplates>(), sp.GetRequiredService<IOptions<TemplateOptions>>().Value.PaperBlockCacheMegabytes));
        services.AddSingleton<DigestComposer>();
        services.AddSingleton<DigestBuilder>();
        services.AddSingleton<SubscriberStore>();
        // One for the life of the process: parsed lines are reused by every fan-out and batch.
        services.AddSingleton<InterestQueryCache>();
        services.AddSingleton<DigestLinkKeyStore>();
        services.AddSingleton<DeliveryLedger>();
        services.AddSingleton<DigestRateLimiter>();
        services.AddSingleton<IDigestTransportFactory>(provider =>
            string.IsNullOrWhiteSpace(provider.GetRequiredService<IOptions<SmtpOptions>>().Value.PickupFolder)
                ? ActivatorUtilities.CreateInstance<SmtpTransportFactory>(provider)
                : ActivatorUtilities.CreateInstance<PickupFolderTransportFactory>(provider));
        services.AddSingleton<IFanOutScheduler, HangfireFanOutScheduler>();
        services.AddTransient<FanOutJob>();
        services.AddTransient<SendBatchJob>();
        services.AddTransient<DeliveryRecoveryJob>();
        services.AddOptionsWithValidateOnStart<JobOptions>().BindConfiguration(JobOptions.Section).ValidateDataAnnotations();

        // Our own storage instance per service provider: Hangfire's UsePostgreSqlStorage would go through the static
        // JobStorage.Current, which two hosts in one process (the tests, a CLI verb) would overwrite for each other.
        services.AddSingleton<JobStorage>(provider =>
        {
            var options = HangfireStorageOptions(provider.GetRequiredService<IOptions<JobOptions>>().Value);
            return new PostgreSqlStorage(new HangfireConnections(connectionString), options);
        });
        // Hangfire keeps its activator and its log provider in statics too. Each host gets its own activator (the
        // servers would otherwise take JobActivator.Current as they start, so a job could be built from another host's
        // services and database), and logging goes through whichever host is still running (HangfireLogBridge).
        services.AddSingleton<JobActivator>(provider => new AspNetCoreJobActivator(provider.GetRequiredService<IServiceScopeFactory>()));
        services.AddSingleton(provider => HangfireLogBridge.Attach(provider.GetRequiredService<ILoggerFactory>()));
        services.AddHangfire((provider, hangfire) =>
        {
            provider.GetRequiredService<HangfireLogBridge.Attachment>(); // This host logs Hangfire's messages while it lives.
            hangfire
                .UseLogProvider(HangfireLogBridge.Instance)
                .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();
        });
        return services;
    }

    /// <summary>Hangfire.PostgreSql's defaults re-queue a killed worker's job only after 30 minutes; ours do it in one.</summary>
    public static PostgreSqlStorageOptions HangfireStorageOptions(JobOptions jobs) => new()
    {
        SchemaName = Migrator.HangfireSchema,
        PrepareSchemaIfNecessary = false, // Migrator creates it.
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = jobs.InvisibilityTimeout,
        EnableLongPolling = true, // LISTEN/NOTIFY picks new jobs up at once; polling stays as the fallback.
        QueuePollInterval = jobs.PollInterval,
        DistributedLockTimeout = TimeSpan.FromMinutes(1),
    };

    /// <summary>The worker half: Hangfire servers and the recurring poll.</summary>
    public static IServiceCollection AddNewsletterWorker(this IServiceCollection services)
    {
        // Two servers in one process: the default queue (polls, fan-outs) and the send queue, whose worker count is
        // the number of SMTP connections this process keeps open.
        services.AddHangfireServer((provider, server) =>
        {
            server.WorkerCount = Math.Max(2, Environment.ProcessorCount);
            server.Queues = ["default"];
            server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:default";
            server.SchedulePollingInterval = provider.GetRequiredService<IOptions<JobOptions>>().Value.PollInterval;
        });
        services.AddHangfireServer((provider, server) =>
        {
            server.WorkerCount = provider.GetRequiredService<IOptions<SmtpOptions>>().Value.Connections;
            server.Queues = [SendBatchJob.Queue];
            server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{SendBatchJob.Queue}";
            server.SchedulePollingInterval = provider.GetRequiredService<IOptions<JobOptions>>().Value.PollInterval;
        });
        services.AddHostedService<RecurringJobRegistration>();
        services.AddHostedService<InboxIdleWatcher>();
        services.AddHostedService<DigestTemplateWarmUp>();
        return services;
    }

    /// <summary>
    /// Every query here runs on a pooled connection, many per request or per digest. Two defaults change unless the
    /// connection string sets them: no DISCARD ALL each time a connection leaves the pool (nothing here leaves session
    /// state behind: advisory locks are released explicitly, temporary tables drop on commit), and the hot statements
    /// are prepared once per connection instead of parsed and planned on every use. Together they halve PostgreSQL's
    /// CPU per page view (measured with tests/bench.sh web).
    /// </summary>
    internal static NpgsqlDataSource BuildDataSource(string connectionString, string? sessionOptions)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var settings = builder.ConnectionStringBuilder;
        // The plain builder knows only the keys actually written (Npgsql's answers true for every keyword it knows).
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose"))
        {
            settings.NoResetOnClose = true;
        }
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
        {
            settings.MaxAutoPrepare = 64;
        }
        if (sessionOptions is not null)
        {
            settings.Options = sessionOptions;
        }
        return builder.Build();
    }
}

/// <summary>Hands Hangfire plain pooled Npgsql connections; it opens and disposes them itself.</summary>
internal sealed class HangfireConnections(string connectionString) : IConnectionFactory
{
    public NpgsqlConnection GetOrCreateConnection() => new(connectionString);
}

/// <summary>Registers the recurring jobs once the worker starts, with the configured poll interval.</summary>
internal sealed class RecurringJobRegistration(IRecurringJobManager recurring, IOptions<InboxOptions> inbox) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        recurring.AddOrUpdate<InboxPoller>(InboxPoller.RecurringJobId, poller => poller.RunAsync(CancellationToken.None), CronFor(inbox.Value.PollInterval));
        recurring.AddOrUpdate<DeliveryRecoveryJob>(DeliveryRecoveryJob.RecurringJobId, job => job.RunAsync(CancellationToken.None), "*/5 * * * *");
        recurring.AddOrUpdate<QuarantineRetentionJob>(QuarantineRetentionJob.RecurringJobId, job => job.RunAsync(CancellationToken.None), "17 * * * *");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Hangfire takes cron; an interval of whole seconds or minutes becomes the matching 6- or 5-field expression.</summary>
    internal static string CronFor(TimeSpan interval) => interval switch
    {
        { TotalSeconds: < 60 } => $"*/{Math.Max(1, (int)interval.TotalSeconds)} * * * * *",
        { TotalMinutes: < 60 } => $"*/{(int)interval.TotalMinutes} * * * *",
        { TotalHours: < 24 } => $"0 */{(int)interval.TotalHours} * * *",
        _ => "0 0 * * *",
    };
}
