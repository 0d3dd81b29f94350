namespace Newsletter.Inbox;

/// <summary>Where listings arrive: an IMAP folder in production, a folder of .eml files in development.</summary>
public interface IMailbox : IAsyncDisposable
{
    /// <summary>Messages not yet dealt with, oldest first.</summary>
    Task<IReadOnlyList<MailboxItem>> ListNewAsync(CancellationToken ct);

    /// <summary>
    /// The messages' bytes, in the order given, in as few round trips as the mailbox allows; only the headers of a
    /// message larger than <paramref name="maxBytes"/>. Null for a message that has vanished since it was listed.
    /// </summary>
    Task<IReadOnlyList<InboundMail?>> DownloadAsync(IReadOnlyList<MailboxItem> items, long maxBytes, CancellationToken ct);

    /// <summary>Moves messages whose outcomes are committed out of the way, to Processed or Quarantine, in one command.</summary>
    Task MoveAsync(IReadOnlyList<MailboxItem> items, bool quarantine, CancellationToken ct);

    /// <summary>Remembers that every message up to <paramref name="lastDone"/> is dealt with (IMAP UIDs).</summary>
    Task SaveProgressAsync(MailboxItem? lastDone, CancellationToken ct);
}

/// <summary>A message in a mailbox: an IMAP UID or a file name.</summary>
public sealed record MailboxItem(string Id, long Size, long? Uid = null);
