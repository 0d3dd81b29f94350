using System.ComponentModel.DataAnnotations;

namespace Newsletter.Inbox;

/// <summary><c>Newsletter:Inbox</c>: which mail is trusted as a listing and how the inbox is read.</summary>
public sealed class InboxOptions
{
    public const string Section = "Newsletter:Inbox";

    /// <summary>Addresses (<c>papers@example.org</c>) or domains (<c>example.org</c>, subdomains included) whose mail may become an issue.</summary>
    public string[] AllowedSenders { get; set; } = [];

    /// <summary>Domains whose mail must carry a valid DKIM signature of that domain, or it is quarantined.</summary>
    public string[] RequireDkimFor { get; set; } = [];

    /// <summary>
    /// The authserv-ids (RFC 8601) of the receiving mail servers whose <c>Authentication-Results</c> headers are believed:
    /// a dkim=fail or dmarc=fail there quarantines the message even when our own DKIM check cannot run. The server must
    /// remove such headers with its own id from incoming mail, as RFC 8601 asks.
    /// </summary>
    public string[] TrustedAuthServIds { get; set; } = [];

    [Range(1024, 512L * 1024 * 1024)]
    public long MaxMessageBytes { get; set; } = 25L * 1024 * 1024;

    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long one message may take to parse; one that takes longer is quarantined and the poll goes on.</summary>
    [Range(typeof(TimeSpan), "00:00:00.0000001", "00:10:00")]
    public TimeSpan ParseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How much of the body of mail the sender policy refuses (unknown sender, failed DKIM or DMARC, automatic mail) is
    /// stored, after all its headers; the mailbox's quarantine folder keeps the whole message.
    /// </summary>
    [Range(0, 16 * 1024 * 1024)]
    public int QuarantinedBodyBytes { get; set; } = 64 * 1024;

    /// <summary>How long quarantined mail is kept in the database before it is deleted.</summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan QuarantineRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// How long delivery reports and auto-replies are kept in the database after they were read; the bounces a report
    /// recorded stay. At least a day, so a report the mailbox hands over again after a crash is still known.
    /// </summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan ReportRetention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>When set, mail is read from this folder of .eml files instead of IMAP (the development default).</summary>
    public string? DropFolder { get; set; }
}
