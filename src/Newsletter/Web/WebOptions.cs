using System.ComponentModel.DataAnnotations;

namespace Newsletter.Web;

/// <summary>Limits of the public pages (section <c>Newsletter:Web</c>, which also holds <see cref="Subscribers.ConfirmationOptions"/>); see Web/README.md.</summary>
public sealed class WebOptions
{
    public const string Section = "Newsletter:Web";

    /// <summary>Subscribe form posts (any handler) accepted per client and minute; more get 429. A client is an IPv4 address or an IPv6 /64.</summary>
    [Range(1, 100_000)]
    public int SubscribePermitsPerMinute { get; set; } = 5;

    /// <summary>Interests previews (<c>/preview</c>, asked while typing) per client and minute, and as many manage-page POSTs
    /// (each save or preview reads a line for meaning); more get 429.</summary>
    [Range(1, 100_000)]
    public int PreviewPermitsPerMinute { get; set; } = 60;

    /// <summary>Confirmation (or "already subscribed") mails per address and hour, counted in the database.</summary>
    [Range(1, 100)]
    public int ConfirmationMailsPerHour { get; set; } = 3;

    /// <summary>Titles the interests preview lists (the count covers all matches).</summary>
    [Range(1, 1000)]
    public int PreviewPapers { get; set; } = 25;
}
