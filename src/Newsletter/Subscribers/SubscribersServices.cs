using Hangfire;
using Newsletter.Hosting;
using Newsletter.Jobs;

namespace Newsletter.Subscribers;

/// <summary>Subscribers, their interests and personal links, CSV import/export, and the double opt-in mail.</summary>
public static class SubscribersServices
{
    public static IServiceCollection AddSubscribers(this IServiceCollection services)
    {
        services.AddSingleton<SubscriberStore>();
        // One for the life of the process: parsed lines are reused by every fan-out and batch.
        services.AddSingleton<InterestQueryCache>();
        services.AddSingleton<DigestLinkKeyStore>();
        services.AddSingleton<SubscriberTokens>();
        services.AddSingleton<SubscriberCsv>();
        return services;
    }

    /// <summary>Confirmation mails: the ledger that limits them, the job that renders and sends one (needs Mail), the
    /// hourly job that forgets addresses never confirmed, and the daily one that deletes spent links.</summary>
    public static IServiceCollection AddConfirmationMails(this IServiceCollection services, ProcessRole? role = null)
    {
        services.AddOptionsWithValidateOnStart<ConfirmationOptions>().BindConfiguration(ConfirmationOptions.Section).ValidateDataAnnotations();
        services.AddSingleton<ConfirmationMails>();
        services.AddSingleton<ConfirmationMailRenderer>();
        services.AddTransient<ConfirmationMailJob>();
        services.AddTransient<UnconfirmedAddressesJob>();
        services.AddTransient<SpentLinksJob>();
        if (role.RunsJobs())
        {
            services.AddRecurringJob((recurring, _) => recurring.AddOrUpdate<UnconfirmedAddressesJob>(UnconfirmedAddressesJob.RecurringJobId,
                job => job.RunAsync(CancellationToken.None), "29 * * * *"));
            services.AddRecurringJob((recurring, _) => recurring.AddOrUpdate<SpentLinksJob>(SpentLinksJob.RecurringJobId,
                job => job.RunAsync(CancellationToken.None), "41 3 * * *"));
        }
        return services;
    }
}
