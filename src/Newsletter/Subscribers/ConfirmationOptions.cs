using System.ComponentModel.DataAnnotations;

namespace Newsletter.Subscribers;

/// <summary>
/// How often and for how long the double opt-in mails work. Their keys stay in <c>Newsletter:Web</c>, where the
/// subscribe form that asks for them is configured (see Web/README.md).
/// </summary>
public sealed class ConfirmationOptions
{
    public const string Section = "Newsletter:Web";

    /// <summary>Confirmation (or "already subscribed") mails per address and hour, counted in the database.</summary>
    [Range(1, 100)]
    public int ConfirmationMailsPerHour { get; set; } = 3;

    [Range(typeof(TimeSpan), "00:05:00", "30.00:00:00")]
    public TimeSpan ConfirmationLinkLifetime { get; set; } = TimeSpan.FromHours(72);
}
