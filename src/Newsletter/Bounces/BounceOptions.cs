using System.ComponentModel.DataAnnotations;

namespace Newsletter.Bounces;

/// <summary>
/// <c>Newsletter:Bounces</c>: how many permanent failures (RFC 3464 reports with a 5.x.x status) stop a subscriber.
/// Where the reports are read is <c>Newsletter:Imap:ReportsFolder</c>; the return path they go to is
/// <c>Newsletter:Mail:BounceDomain</c>.
/// </summary>
public sealed class BounceOptions
{
    public const string Section = "Newsletter:Bounces";

    /// <summary>Reports of 5.1.x (no such mailbox, bad domain) after which an active subscriber becomes bounced.</summary>
    [Range(1, 1000)]
    public int UnknownMailboxLimit { get; set; } = 1;

    /// <summary>Reports of any other permanent failure (mailbox full for good, refused as spam, ...) after which they do.</summary>
    [Range(1, 1000)]
    public int PermanentFailureLimit { get; set; } = 3;
}
