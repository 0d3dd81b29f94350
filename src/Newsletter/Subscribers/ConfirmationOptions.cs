using System.ComponentModel.DataAnnotations;

namespace Newsletter.Subscribers;

/// <summary>How long a double opt-in link works; the key stays in <c>Newsletter:Web</c>, beside the form's limits.</summary>
public sealed class ConfirmationOptions
{
    public const string Section = "Newsletter:Web";

    [Range(typeof(TimeSpan), "00:05:00", "30.00:00:00")]
    public TimeSpan ConfirmationLinkLifetime { get; set; } = TimeSpan.FromHours(72);
}
