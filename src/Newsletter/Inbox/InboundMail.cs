namespace Newsletter.Inbox;

/// <summary>One message as it came out of a mailbox, before anything judged it.</summary>
/// <param name="Raw">The bytes as received; only the headers when the message was over the size cap.</param>
/// <param name="Size">The size the mailbox reported, which is what the size cap is checked against.</param>
public sealed record InboundMail(
    ReadOnlyMemory<byte> Raw,
    long Size,
    string Source,
    string? Folder = null,
    long? UidValidity = null,
    long? Uid = null);

public enum IngestStatus
{
    /// <summary>A new issue was stored and its fan-out scheduled.</summary>
    Ingested,

    /// <summary>Seen before (same Message-ID, same bytes, or an issue of that day exists): nothing changed.</summary>
    Duplicate,

    /// <summary>Stored but not trusted or not a listing; the reason says why.</summary>
    Quarantined,

    /// <summary>A delivery report (RFC 3464), recorded against the delivery it is about when one matches.</summary>
    Report,

    /// <summary>An out-of-office or other automatic reply: stored and ignored.</summary>
    AutoReply,
}

public sealed record IngestOutcome(IngestStatus Status, long InboundMessageId, long? IssueId, string? Reason)
{
    /// <summary>Quarantined mail goes to the quarantine folder; everything else has been dealt with.</summary>
    public bool BelongsInQuarantine => Status == IngestStatus.Quarantined;
}
