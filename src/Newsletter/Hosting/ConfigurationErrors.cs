using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Newsletter.Hosting;

/// <summary>
/// Turns what start-up throws for a wrong setting into one line per mistake, each naming the key and what is wrong:
/// options validation (data annotations and our validators, the first naming the section's key here) and values the
/// binder cannot convert. Anything else is not a configuration error and stays an exception.
/// </summary>
public static partial class ConfigurationErrors
{
    /// <summary>EX_CONFIG of sysexits(3); the systemd units do not restart a process that exits with it.</summary>
    public const int ExitCode = 78;

    /// <summary>The mistakes <paramref name="exception"/> reports, or null when it is not about configuration.</summary>
    public static IReadOnlyList<string>? Describe(Exception exception) => exception switch
    {
        OptionsValidationException options => [.. options.Failures.Select(failure => Describe(options.OptionsType, failure))],
        AggregateException aggregate when aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(e => Describe(e) is not null) =>
            [.. aggregate.InnerExceptions.SelectMany(e => Describe(e)!)],
        InvalidOperationException binding when NotConvertible().Match(binding.Message) is { Success: true } match =>
            [$"{match.Groups["key"].Value}: {OneLine(binding.InnerException?.Message ?? $"not a valid {match.Groups["type"].Value}")}"],
        _ => null,
    };

    private static string Describe(Type options, string failure)
    {
        var annotation = DataAnnotationFailure().Match(failure);
        if (!annotation.Success)
        {
            return OneLine(failure);
        }
        var message = annotation.Groups["message"].Value;
        var section = options.GetField("Section", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as string;
        var member = annotation.Groups["members"].Value.Split(',')[0].Trim();
        var key = section is null ? member : $"{section}:{member}";
        // Some messages already name their key (SiteOptions'); say it once.
        return OneLine(message.Contains(key, StringComparison.OrdinalIgnoreCase) ? message : $"{key}: {message}");
    }

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    [GeneratedRegex(@"^DataAnnotation validation failed for '[^']*' members: '(?<members>[^']*)' with the error: '(?<message>.*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex DataAnnotationFailure();

    [GeneratedRegex(@"^Failed to convert configuration value (?:'[^']*' )?at '(?<key>[^']+)' to type '(?<type>[^']+)'")]
    private static partial Regex NotConvertible();
}
