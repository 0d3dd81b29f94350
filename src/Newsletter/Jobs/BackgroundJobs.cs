using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Options;
using Newsletter.Database;
using Npgsql;

namespace Newsletter.Jobs;

/// <summary>
/// Hangfire on our PostgreSQL. Every process can queue jobs; a process that runs jobs also gets the servers its features
/// add (<see cref="AddJobServer"/>) and registers their recurring jobs (<see cref="AddRecurringJob"/>) when it starts.
/// </summary>
public static class BackgroundJobs
{
    public const string DefaultQueue = "default";

    public static IServiceCollection AddBackgroundJobs(this IServiceCollection services, IConfiguration configuration, bool runsJobs)
    {
        services.AddOptionsWithValidateOnStart<JobOptions>().BindConfiguration(JobOptions.Section).ValidateDataAnnotations();
        var connectionString = ConnectionStrings.Require(configuration);
        // Our own storage instance per service provider: Hangfire's UsePostgreSqlStorage would go through the static
        // JobStorage.Current, which two hosts in one process (the tests, a CLI verb) would overwrite for each other.
        services.AddSingleton<JobStorage>(provider =>
            new PostgreSqlStorage(new HangfireConnections(connectionString), StorageOptions(provider.GetRequiredService<IOptions<JobOptions>>().Value)));
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
        if (runsJobs)
        {
            services.AddJobServer(DefaultQueue, _ => Math.Max(2, Environment.ProcessorCount), runsSchedulers: true);
            services.AddHostedService<RecurringJobRegistration>();
        }
        return services;
    }

    /// <summary>Hangfire.PostgreSql's defaults re-queue a killed worker's job only after 30 minutes; ours do it in one.</summary>
    public static PostgreSqlStorageOptions StorageOptions(JobOptions jobs) => new()
    {
        SchemaName = Migrator.HangfireSchema,
        PrepareSchemaIfNecessary = false, // Migrator creates it.
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = jobs.InvisibilityTimeout,
        EnableLongPolling = true, // LISTEN/NOTIFY picks new jobs up at once; polling stays as the fallback.
        QueuePollInterval = jobs.PollInterval,
        DistributedLockTimeout = TimeSpan.FromMinutes(1),
    };

    /// <summary>
    /// A Hangfire server for one queue: the queue's jobs run on at most <paramref name="workers"/> threads of this process.
    /// Only the default queue's server (<paramref name="runsSchedulers"/>) also moves due scheduled and recurring jobs to
    /// their queues and expires old records: every further server would poll and lock the same tables again.
    /// </summary>
    public static IServiceCollection AddJobServer(this IServiceCollection services, string queue, Func<IServiceProvider, int> workers,
        bool runsSchedulers = false) =>
        services.AddHangfireServer((provider, server) =>
        {
            server.WorkerCount = workers(provider);
            server.Queues = [queue];
            server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{queue}";
            server.SchedulePollingInterval = provider.GetRequiredService<IOptions<JobOptions>>().Value.PollInterval;
            server.IsLightweightServer = !runsSchedulers;
        });

    /// <summary>A recurring job, registered (or updated) when a process that runs jobs starts.</summary>
    public static IServiceCollection AddRecurringJob(this IServiceCollection services, Action<IRecurringJobManager, IServiceProvider> register) =>
        services.AddSingleton(new RecurringJob(register));

    /// <summary>Hangfire takes cron; an interval of whole seconds or minutes becomes the matching 6- or 5-field expression.</summary>
    public static string CronFor(TimeSpan interval) => interval switch
    {
        { TotalSeconds: < 60 } => $"*/{Math.Max(1, (int)interval.TotalSeconds)} * * * * *",
        { TotalMinutes: < 60 } => $"*/{(int)interval.TotalMinutes} * * * *",
        { TotalHours: < 24 } => $"0 */{(int)interval.TotalHours} * * *",
        _ => "0 0 * * *",
    };
}

/// <summary>One feature's recurring job; see <see cref="BackgroundJobs.AddRecurringJob"/>.</summary>
public sealed record RecurringJob(Action<IRecurringJobManager, IServiceProvider> Register);

/// <summary>Hands Hangfire plain pooled Npgsql connections; it opens and disposes them itself.</summary>
internal sealed class HangfireConnections(string connectionString) : IConnectionFactory
{
    public NpgsqlConnection GetOrCreateConnection() => new(connectionString);
}

/// <summary>Registers every feature's recurring jobs once a process that runs jobs starts.</summary>
internal sealed class RecurringJobRegistration(IRecurringJobManager recurring, IEnumerable<RecurringJob> jobs, IServiceProvider provider) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var job in jobs)
        {
            job.Register(recurring, provider);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
