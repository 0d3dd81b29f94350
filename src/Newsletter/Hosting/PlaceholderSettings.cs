using Microsoft.Extensions.Options;

namespace Newsletter.Hosting;

/// <summary>
/// The deploy examples mark every secret "CHANGE-ME". A process whose configuration still holds one (any setting under
/// <c>Newsletter</c> or <c>ConnectionStrings</c> containing "change-me", in any case) refuses to start and names each
/// key, so an example copied as it is never runs with a password everyone can read.
/// </summary>
public sealed class PlaceholderSettings
{
    public const string Placeholder = "change-me";

    /// <summary>The keys still holding the placeholder.</summary>
    public IReadOnlyList<string> Keys { get; set; } = [];

    /// <summary>Checks the configuration at start (the server) or before a verb runs (the tool host).</summary>
    public static void Register(IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<PlaceholderSettings>()
            .Configure<IConfiguration>((found, configuration) => found.Keys = configuration.AsEnumerable()
                .Where(pair => pair.Value?.Contains(Placeholder, StringComparison.OrdinalIgnoreCase) == true
                    && (pair.Key.StartsWith("Newsletter:", StringComparison.OrdinalIgnoreCase)
                        || pair.Key.StartsWith("ConnectionStrings:", StringComparison.OrdinalIgnoreCase)))
                .Select(pair => pair.Key)
                .Order(StringComparer.Ordinal)
                .ToList());
        services.AddSingleton<IValidateOptions<PlaceholderSettings>, Validator>();
    }

    private sealed class Validator : IValidateOptions<PlaceholderSettings>
    {
        public ValidateOptionsResult Validate(string? name, PlaceholderSettings options) => options.Keys.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(options.Keys.Select(key =>
                $"{key} still holds the deploy example's placeholder ({Placeholder.ToUpperInvariant()}): set a real value."));
    }
}
