namespace Newsletter.Inbox;

/// <summary>Where listings arrive: an IMAP folder in production, a folder of .eml files in development.</summary>
public interface IMailbox : IAsyncDisposable
{
    /// <summary>Messages not yet dealt with, oldest first.</summary>
    Task<IReadOnlyList<MailboxItem>> ListNewAsync(CancellationToken ct);

    /// <summary>The message's bytes; only its headers when it is larger than <paramref name="maxBytes"/>.</summary>
    Task<InboundMail> DownloadAsync(MailboxItem item, long maxBytes, CancellationToken ct);

    /// <summary>Moves a message whose outcome is committed out of the way, to Processed or Quarantine.</summary>
    Task MoveAsync(MailboxItem item, bool quarantine, CancellationToken ct);

    /// <summary>Remembers that every message up to <paramref name="lastDone"/> is dealt with (IMAP UIDs).</summary>
    Task SaveProgressAsync(MailboxItem? lastDone, CancellationToken ct);
}

/// <summary>A message in a mailbox: an IMAP UID or a file name.</summary>
public sealed record MailboxItem(string Id, long Size, long? Uid = null);
