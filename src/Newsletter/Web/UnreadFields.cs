using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Newsletter.Web;

/// <summary>The fields of a posted form whose value is none of their choices (Format=Pdf), which binding left at their default.</summary>
public static class UnreadFields
{
    public static bool Has(ModelStateDictionary modelState, string field)
    {
        ArgumentNullException.ThrowIfNull(modelState);
        return modelState.GetFieldValidationState(field) == ModelValidationState.Invalid;
    }

    /// <summary>
    /// "Format: 'Pdf' is not one of its choices." for each such field, or "Format: holds a character it cannot take
    /// (U+0000)." when a control character is why; null when every field was read.
    /// </summary>
    public static string? Describe(ModelStateDictionary modelState)
    {
        ArgumentNullException.ThrowIfNull(modelState);
        var unread = modelState.Where(entry => entry.Value?.ValidationState == ModelValidationState.Invalid)
            .Select(entry => Sentence(entry.Key, entry.Value!.AttemptedValue)).ToList();
        return unread.Count > 0 ? string.Join(" ", unread) : null;
    }

    /// <summary>"generation: 'abc' is not a generation number." when binding could not read <paramref name="field"/> as a number; else null.</summary>
    public static string? DescribeNumber(ModelStateDictionary modelState, string field, string what)
    {
        ArgumentNullException.ThrowIfNull(modelState);
        return modelState.TryGetValue(field, out var entry) && entry.ValidationState == ModelValidationState.Invalid
            ? $"{field.ToLowerInvariant()}: '{entry.AttemptedValue}' is not {what}."
            : null;
    }

    private static string Sentence(string field, string? typed) =>
        (typed ?? "").Where(char.IsControl).Select(c => (int?)c).FirstOrDefault() is { } control
            ? $"{field}: holds a character it cannot take (U+{control:X4})."
            : $"{field}: '{typed}' is not one of its choices.";
}
