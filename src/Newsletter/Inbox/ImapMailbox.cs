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
    private IMailFolder? folder;
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
        folder = await client.GetFolderAsync(options.Folder, timeout.Token);
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

    public async Task<InboundMail> DownloadAsync(MailboxItem item, long maxBytes, CancellationToken ct)
    {
        var open = OpenFolder;
        using var timeout = Bounded(ct);
        var uid = new UniqueId(open.UidValidity, (uint)item.Uid!.Value);

        // A message over the cap is judged by its headers alone; its body is never downloaded.
        await using var stream = item.Size <= maxBytes
            ? await open.GetStreamAsync(uid, timeout.Token)
            : await open.GetStreamAsync(uid, "HEADER", timeout.Token);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, timeout.Token);
        return new InboundMail(buffer.ToArray(), item.Size, "imap", open.FullName, open.UidValidity, item.Uid);
    }

    public async Task MoveAsync(MailboxItem item, bool quarantine, CancellationToken ct)
    {
        var open = OpenFolder;
        using var timeout = Bounded(ct);
        var target = await GetOrCreateFolderAsync(quarantine ? options.QuarantineFolder : options.ProcessedFolder, timeout.Token);

        // MailKit falls back to COPY + \Deleted + UID EXPUNGE where the server has no MOVE.
        await open.MoveToAsync(new UniqueId(open.UidValidity, (uint)item.Uid!.Value), target, timeout.Token);
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
        try
        {
            return await client.GetFolderAsync(name, ct);
        }
        catch (FolderNotFoundException)
        {
            var root = client.GetFolder(client.PersonalNamespaces[0]);
            return await root.CreateAsync(name, isMessageFolder: true, ct)
                ?? throw new InvalidOperationException($"The IMAP server did not create the folder {name}.");
        }
    }

    private IMailFolder OpenFolder => folder ?? throw new InvalidOperationException("The IMAP folder is not open.");

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
