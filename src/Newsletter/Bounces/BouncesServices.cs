using Microsoft.Extensions.DependencyInjection.Extensions;
using Newsletter.Digests;
using Newsletter.Subscribers;

namespace Newsletter.Bounces;

/// <summary>Delivery reports read from the inbox: which delivery a report is about, and what it changes.</summary>
public static class BouncesServices
{
    /// <summary>Once however many features ask.</summary>
    public static IServiceCollection AddBounces(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(BouncesRegistered)))
        {
            return services;
        }
        services.AddSingleton<BouncesRegistered>();
        services.AddOptionsWithValidateOnStart<BounceOptions>().BindConfiguration(BounceOptions.Section).ValidateDataAnnotations();
        services.AddSingleton<BounceStore>();
        // What they use of Digests and Subscribers, for the verbs that ingest mail without the rest of those.
        services.TryAddSingleton<ReturnPaths>();
        services.TryAddSingleton<DigestLinkKeyStore>();
        services.TryAddSingleton<SubscriberStore>();
        return services;
    }

    private sealed class BouncesRegistered;
}
