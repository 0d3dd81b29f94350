using System.ComponentModel.DataAnnotations;

namespace Newsletter.Subscribers;

/// <summary>How long a double opt-in link works, and how long an address never confirmed is kept; the keys stay in
/// <c>Newsletter:Web</c>, beside the form's limits.</summary>
public sealed class ConfirmationOptions : IValidatableObject
{
    public const string Section = "Newsletter:Web";

    [Range(typeof(TimeSpan), "00:05:00", "30.00:00:00")]
    public TimeSpan ConfirmationLinkLifetime { get; set; } = TimeSpan.FromHours(72);

    /// <summary>An address asked for on the public form and never confirmed is forgotten this long after its last request.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan UnconfirmedRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// A stored link that expired or was used answers "expired" (410) this long; then it is deleted, and answers as a link
    /// we do not know (404). Links that neither expire nor were used (a confirmation's manage link) are kept.
    /// </summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan SpentLinkRetention { get; set; } = TimeSpan.FromDays(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (UnconfirmedRetention < ConfirmationLinkLifetime)
        {
            yield return new ValidationResult(
                $"UnconfirmedRetention ({UnconfirmedRetention}) must be at least ConfirmationLinkLifetime ({ConfirmationLinkLifetime}): an address would be forgotten while its link still works.",
                [nameof(UnconfirmedRetention)]);
        }
    }
}
