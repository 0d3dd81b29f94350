using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using Newsletter.Hosting;
using Npgsql;

namespace Newsletter.Inbox;

/// <summary>
/// The IMAP folder the listings arrive in. Tracks UIDVALIDITY and the last UID dealt with in <c>mailbox_state</c>;
/// when the server changes UIDVALIDITY the old UIDs mean nothing, so every message still in the folder is looked at
/// again (the inbound ledger makes that harmless). Every call is bounded by <see cref="ImapOptions.Timeout"/>.
/// </summary>
public sealed class ImapMailbox : IMailbox
{
    private readonly ImapOptions options;
    private readonly NpgsqlDataSource db;
    private readonly TimeProvider clock;
    private readonly ImapClient client = new();
    private readonly Dictionary<string, IMailFolder> targets = new(StringComparer.Ordinal);
    private ImapFolder? folder;
    private long lastUid;

    private ImapMailbox(ImapOptions options, NpgsqlDataSource db, TimeProvider clock)
    {
        this.options = options;
        this.db = db;
        this.clock = clock;
        client.Timeout = (int)options.Timeout.TotalMilliseconds;
    }

    public static async Task<ImapMailbox> OpenAsync(ImapOptions options, NpgsqlDataSource db, TimeProvider clock, CancellationToken ct)
    {
        var mailbox = new ImapMailbox(options, db, clock);
        try
        {
            await mailbox.ConnectAsync(ct);
            return mailbox;
        }
        catch
        {
            await mailbox.DisposeAsync();
            throw;
        }
    }

    private async Task ConnectAsync(CancellationToken ct)
    {
        using var timeout = Bounded(ct);
        // Host and credentials are checked at start-up (InboxSettingsValidator).
        await client.ConnectAsync(options.Host!, options.Port, options.Security, timeout.Token);
        await client.AuthenticateAsync(options.Username!, options.Password!, timeout.Token);
        folder = (ImapFolder)await client.GetFolderAsync(options.Folder, timeout.Token);
        await folder.OpenAsync(FolderAccess.ReadWrite, timeout.Token);
    }

    public async Task<IReadOnlyList<MailboxItem>> ListNewAsync(CancellationToken ct)
    {
        var open = OpenFolder;
        using var timeout = Bounded(ct);
        lastUid = await ReadLastUidAsync(open.UidValidity, timeout.Token);

        // "UID n:*" always returns the newest message even when its UID is below n: filter again here.
        var range = new UniqueIdRange(new UniqueId(open.UidValidity, (uint)Math.Min(lastUid + 1, uint.MaxValue)), UniqueId.MaxValue);
        var uids = await open.SearchAsync(SearchQuery.Uids(range), timeout.Token);
        var fresh = uids.Where(u => u.Id > lastUid).ToList();
        if (fresh.Count == 0)
        {
            return [];
        }
        var summaries = await open.FetchAsync(fresh, MessageSummaryItems.UniqueId | MessageSummaryItems.Size, timeout.Token);
        return summaries
            .OrderBy(s => s.UniqueId.Id)
            .Select(s => new MailboxItem(s.UniqueId.ToString(), s.Size ?? 0, s.UniqueId.Id))
            .ToList();
    }

    public async Task<IReadOnlyList<InboundMail?>> DownloadAsync(IReadOnlyList<MailboxItem> items, long maxBytes, CancellationToken ct)
    {
        var open = OpenFolder;
        // No cap on the whole download (up to 32 MB may be slow on a slow link and must still finish); a stalled
        // connection is caught by the client's own inactivity timeout, set from the same option.
        var raw = new Dictionary<uint, byte[]>(items.Count);

        // Every message within the cap in one UID FETCH: a round trip per message was most of a backlog's time.
        var whole = items.Where(i => i.Size <= maxBytes).Select(Uid).ToList();
        if (whole.Count > 0)
        {
            await open.GetStreamsAsync(whole, async (_, _, uid, stream, token) => raw[uid.Id] = await ReadAllAsync(stream, token), ct);
        }

        // A message over the cap is judged by its headers alone; its body is never downloaded.
        foreach (var item in items.Where(i => i.Size > maxBytes))
        {
            try
            {
                await using var stream = await open.GetStreamAsync(Uid(item), "HEADER", ct);
                raw[(uint)item.Uid!.Value] = await ReadAllAsync(stream, ct);
            }
            catch (MessageNotFoundException)
            {
                // Expunged by another client since it was listed: nothing left to ingest.
            }
        }

        return items
            .Select(i => raw.TryGetValue((uint)i.Uid!.Value, out var bytes)
                ? new InboundMail(bytes, i.Size, "imap", open.FullName, open.UidValidity, i.Uid)
                : null)
            .ToList();
    }

    public async Task MoveAsync(IReadOnlyList<MailboxItem> items, bool quarantine, CancellationToken ct)
    {
        if (items.Count == 0)
        {
            return;
        }
        var open = OpenFolder;
        using var timeout = Bounded(ct);
        var target = await GetOrCreateFolderAsync(quarantine ? options.QuarantineFolder : options.ProcessedFolder, timeout.Token);

        // One UID MOVE for the lot; MailKit falls back to COPY + \Deleted + UID EXPUNGE where the server has no MOVE.
        await open.MoveToAsync(items.Select(Uid).ToList(), target, timeout.Token);
    }

    /// <summary>
    /// Moves every message with this Message-ID from the quarantine folder to the processed one; returns how many.
    /// Selects the quarantine folder, so the inbox is no longer open: use a mailbox opened for this alone.
    /// </summary>
    public async Task<int> MoveOutOfQuarantineAsync(string messageId, CancellationToken ct)
    {
        using var timeout = Bounded(ct);
        var quarantine = await GetOrCreateFolderAsync(options.QuarantineFolder, timeout.Token);
        await quarantine.OpenAsync(FolderAccess.ReadWrite, timeout.Token);
        // The stored Message-ID has no angle brackets; a substring search of the header finds it with them, and may
        // find longer ids that contain it, which the exact comparison leaves where they are.
        var found = await quarantine.SearchAsync(SearchQuery.HeaderContains("Message-ID", messageId), timeout.Token);
        var uids = found.Count == 0
            ? found
            : (await quarantine.FetchAsync(found, MessageSummaryItems.UniqueId | MessageSummaryItems.Envelope, timeout.Token))
                .Where(m => string.Equals(MessageIngestor.NormalizedMessageId(m.Envelope?.MessageId), messageId, StringComparison.Ordinal))
                .Select(m => m.UniqueId)
                .ToList();
        if (uids.Count > 0)
        {
            await quarantine.MoveToAsync(uids, await GetOrCreateFolderAsync(options.ProcessedFolder, timeout.Token), timeout.Token);
        }
        return uids.Count;
    }

    private UniqueId Uid(MailboxItem item) => new(OpenFolder.UidValidity, (uint)item.Uid!.Value);

    private static async Task<byte[]> ReadAllAsync(Stream stream, CancellationToken ct)
    {
        // MailKit hands over a seekable copy of the literal: read it straight into one array of the right size
        // (a listing is ~275 KB, so each extra copy is another large-object allocation).
        if (stream.CanSeek && stream.Length - stream.Position <= Array.MaxLength)
        {
            var bytes = new byte[stream.Length - stream.Position];
            await stream.ReadExactlyAsync(bytes, ct);
            return bytes;
        }
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, ct);
        return buffer.ToArray();
    }

    public async Task SaveProgressAsync(MailboxItem? lastDone, CancellationToken ct)
    {
        var open = OpenFolder;
        await using var command = db.CreateCommand(
            """
            insert into mailbox_state (folder, uid_validity, last_uid, polled_at) values (@folder, @validity, @last, @now)
            on conflict (folder) do update set uid_validity = excluded.uid_validity, last_uid = excluded.last_uid, polled_at = excluded.polled_at
            """);
        command.Parameters.AddWithValue("folder", open.FullName);
        command.Parameters.AddWithValue("validity", (long)open.UidValidity);
        command.Parameters.AddWithValue("last", lastDone?.Uid ?? lastUid);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        await command.ExecuteNonQueryAsync(ct);
    }

    private async Task<long> ReadLastUidAsync(uint uidValidity, CancellationToken ct)
    {
        await using var command = db.CreateCommand("select uid_validity, last_uid from mailbox_state where folder = @folder");
        command.Parameters.AddWithValue("folder", OpenFolder.FullName);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct) || reader.GetInt64(0) != uidValidity)
        {
            return 0;
        }
        return reader.GetInt64(1);
    }

    private async Task<IMailFolder> GetOrCreateFolderAsync(string name, CancellationToken ct)
    {
        if (targets.TryGetValue(name, out var known))
        {
            return known;
        }

        IMailFolder folder;
        try
        {
            folder = await client.GetFolderAsync(name, ct);
        }
        catch (FolderNotFoundException)
        {
            var root = client.GetFolder(client.PersonalNamespaces[0]);
            folder = await root.CreateAsync(name, isMessageFolder: true, ct)
                ?? throw new InvalidOperationException($"The IMAP server did not create the folder {name}.");
        }
        targets[name] = folder;
        return folder;
    }

    private ImapFolder OpenFolder => folder ?? throw new InvalidOperationException("The IMAP folder is not open.");

    private CancellationTokenSource Bounded(CancellationToken ct)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(ct);
        source.CancelAfter(options.Timeout);
        return source;
    }

    public async ValueTask DisposeAsync()
    {
        if (client.IsConnected)
        {
            try
            {
                using var timeout = new CancellationTokenSource(options.Timeout);
                await client.DisconnectAsync(quit: true, timeout.Token);
            }
            catch (Exception ex) when (ex is IOException or ImapProtocolException or OperationCanceledException)
            {
                // The connection is going away either way.
            }
        }
        client.Dispose();
    }
}
