namespace Newsletter.Inbox;

/// <summary>
/// A folder of .eml files standing in for IMAP in development: new files are read from the folder itself and
/// moved to <c>processed/</c> or <c>quarantine/</c> below it.
/// </summary>
public sealed class DropFolderMailbox(string folder) : IMailbox
{
    public Task<IReadOnlyList<MailboxItem>> ListNewAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(folder);
        IReadOnlyList<MailboxItem> items = new DirectoryInfo(folder)
            .EnumerateFiles("*.eml")
            .OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => new MailboxItem(f.Name, f.Length))
            .ToList();
        return Task.FromResult(items);
    }

    public async Task<IReadOnlyList<InboundMail?>> DownloadAsync(IReadOnlyList<MailboxItem> items, long maxBytes, CancellationToken ct)
    {
        var mails = new List<InboundMail?>(items.Count);
        foreach (var item in items)
        {
            mails.Add(File.Exists(Path.Combine(folder, item.Id)) ? await DownloadAsync(item, maxBytes, ct) : null);
        }
        return mails;
    }

    public Task MoveAsync(IReadOnlyList<MailboxItem> items, bool quarantine, CancellationToken ct)
    {
        foreach (var item in items)
        {
            Move(item, quarantine);
        }
        return Task.CompletedTask;
    }

    private async Task<InboundMail> DownloadAsync(MailboxItem item, long maxBytes, CancellationToken ct)
    {
        var path = Path.Combine(folder, item.Id);
        byte[] raw;
        if (item.Size <= maxBytes)
        {
            raw = await File.ReadAllBytesAsync(path, ct);
        }
        else
        {
            // Enough to read the headers and say who sent it; the body is never loaded.
            await using var stream = File.OpenRead(path);
            raw = new byte[64 * 1024];
            raw = raw[..await stream.ReadAtLeastAsync(raw, raw.Length, throwOnEndOfStream: false, ct)];
        }
        return new InboundMail(raw, item.Size, "drop", folder);
    }

    private void Move(MailboxItem item, bool quarantine)
    {
        var target = Path.Combine(folder, quarantine ? "quarantine" : "processed");
        Directory.CreateDirectory(target);
        var destination = Path.Combine(target, item.Id);
        for (var n = 1; File.Exists(destination); n++)
        {
            destination = Path.Combine(target, $"{Path.GetFileNameWithoutExtension(item.Id)}.{n}{Path.GetExtension(item.Id)}");
        }
        File.Move(Path.Combine(folder, item.Id), destination);
    }

    public Task SaveProgressAsync(MailboxItem? lastDone, CancellationToken ct) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
