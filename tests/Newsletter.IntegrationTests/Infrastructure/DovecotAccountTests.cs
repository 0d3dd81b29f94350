using MailKit;
using MimeKit;

namespace Newsletter.IntegrationTests.Infrastructure;

public class DovecotAccountTests
{
    [Fact]
    public async Task AppendAsync_Message_ListUidsShowsItsUid()
    {
        var account = DovecotAccount.Create();

        var uid = await account.AppendAsync("INBOX", Sample("hello"), Ct);

        Assert.Equal([uid], await account.ListUidsAsync("INBOX", Ct));
    }

    [Fact]
    public async Task AppendAsync_RawEmlToMissingFolder_CreatesFolderWithTheMessage()
    {
        var account = DovecotAccount.Create();
        var raw = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "TestData", "trending-papers-2025-03-11.eml"), Ct);
        Assert.False(await account.FolderExistsAsync("Processed", Ct));

        var uid = await account.AppendAsync("Processed", raw, Ct);

        Assert.True(await account.FolderExistsAsync("Processed", Ct));
        Assert.Equal([uid], await account.ListUidsAsync("Processed", Ct));
        Assert.Equal(raw, await FetchRawAsync(account, "Processed", uid, Ct));
    }

    [Fact]
    public async Task OpenClientAsync_FolderCreatedWithMailKit_Exists()
    {
        var account = DovecotAccount.Create();
        using (var client = await account.OpenClientAsync(Ct))
        {
            var root = client.GetFolder(client.PersonalNamespaces[0]);
            await root.CreateAsync("Quarantine", isMessageFolder: true, Ct);
            await client.DisconnectAsync(true, Ct);
        }

        Assert.True(await account.FolderExistsAsync("Quarantine", Ct));
        Assert.Empty(await account.ListUidsAsync("Quarantine", Ct));
    }

    [Fact]
    public async Task Create_TwoAccounts_HaveSeparateMailboxes()
    {
        var first = DovecotAccount.Create();
        var second = DovecotAccount.Create();

        await first.AppendAsync("INBOX", Sample("for the first"), Ct);

        Assert.Single(await first.ListUidsAsync("INBOX", Ct));
        Assert.Empty(await second.ListUidsAsync("INBOX", Ct));
    }

    static async Task<byte[]> FetchRawAsync(DovecotAccount account, string folder, UniqueId uid, CancellationToken ct)
    {
        using var client = await account.OpenClientAsync(ct);
        var source = await client.GetFolderAsync(folder, ct);
        await source.OpenAsync(FolderAccess.ReadOnly, ct);
        await using var stream = await source.GetStreamAsync(uid, ct);
        using var bytes = new MemoryStream();
        await stream.CopyToAsync(bytes, ct);
        return bytes.ToArray();
    }

    static MimeMessage Sample(string subject) => new(
        [new MailboxAddress("Sender", "sender@example.test")],
        [new MailboxAddress("Reader", "reader@example.test")],
        subject,
        new TextPart("plain") { Text = "body" });
}
