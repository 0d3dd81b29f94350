using Microsoft.Extensions.DependencyInjection.Extensions;
using Newsletter.Subscribers;

namespace Newsletter.Bounces;

/// <summary>Delivery reports read from the inbox: the VERP return paths digests go out with, and what a report changes.</summary>
public static class BouncesServices
{
    /// <summary>Once however many features ask: the inbox records reports, the digests go out with return paths.</summary>
    public static IServiceCollection AddBounces(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(BouncesRegistered)))
        {
            return services;
        }
        services.AddSingleton<BouncesRegistered>();
        services.AddOptionsWithValidateOnStart<BounceOptions>().BindConfiguration(BounceOptions.Section).ValidateDataAnnotations();
        services.AddSingleton<ReturnPaths>();
        services.AddSingleton<BounceStore>();
        // What they use of Subscribers, for the verbs that ingest mail without the rest of Subscribers.
        services.TryAddSingleton<DigestLinkKeyStore>();
        services.TryAddSingleton<SubscriberStore>();
        return services;
    }

    private sealed class BouncesRegistered;
}
