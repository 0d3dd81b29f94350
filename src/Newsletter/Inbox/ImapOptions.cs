using MailKit.Security;

namespace Newsletter.Inbox;

/// <summary><c>Newsletter:Imap</c>: the mailbox the listings arrive in. Required unless a drop folder is configured.</summary>
public sealed class ImapOptions
{
    public const string Section = "Newsletter:Imap";

    public string? Host { get; set; }
    public int Port { get; set; } = 993;
    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.Auto;
    public string? Username { get; set; }
    public string? Password { get; set; }
    public string Folder { get; set; } = "INBOX";
    public string ProcessedFolder { get; set; } = "Processed";
    public string QuarantineFolder { get; set; } = "Quarantine";

    /// <summary>
    /// Where delivery reports arrive when not in <see cref="Folder"/> (e.g. a folder a server-side rule fills). Null:
    /// they arrive in the inbox with the listings and are told apart there. Polled after the inbox, with no IDLE.
    /// </summary>
    public string? ReportsFolder { get; set; }

    /// <summary>These settings reading another folder; Processed and Quarantine stay the same.</summary>
    internal ImapOptions Reading(string folder)
    {
        var copy = (ImapOptions)MemberwiseClone();
        copy.Folder = folder;
        return copy;
    }

    /// <summary>Every IMAP operation is bounded by this; MailKit's Connect can otherwise hang forever.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>IDLE is restarted before this, below the 29 minutes servers allow and the 10 minutes NAT boxes do.</summary>
    public TimeSpan IdleRestart { get; set; } = TimeSpan.FromMinutes(9);
}
