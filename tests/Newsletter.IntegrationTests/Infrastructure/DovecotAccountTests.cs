using MailKit;
using MimeKit;

namespace Newsletter.IntegrationTests.Infrastructure;

public class DovecotAccountTests
{
    [Fact]
    public async Task AppendAsync_Message_ListUidsShowsItsUid()
    {
        var ct = TestContext.Current.CancellationToken;
        var account = DovecotAccount.Create();

        var uid = await account.AppendAsync("INBOX", Sample("hello"), ct);

        Assert.Equal([uid], await account.ListUidsAsync("INBOX", ct));
    }

    [Fact]
    public async Task AppendAsync_RawEmlToMissingFolder_CreatesFolderWithTheMessage()
    {
        var ct = TestContext.Current.CancellationToken;
        var account = DovecotAccount.Create();
        var raw = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "TestData", "trending-papers-2025-03-11.eml"), ct);
        Assert.False(await account.FolderExistsAsync("Processed", ct));

        var uid = await account.AppendAsync("Processed", raw, ct);

        Assert.True(await account.FolderExistsAsync("Processed", ct));
        Assert.Equal([uid], await account.ListUidsAsync("Processed", ct));
        Assert.Equal(raw, await FetchRawAsync(account, "Processed", uid, ct));
    }

    [Fact]
    public async Task OpenClientAsync_FolderCreatedWithMailKit_Exists()
    {
        var ct = TestContext.Current.CancellationToken;
        var account = DovecotAccount.Create();
        using (var client = await account.OpenClientAsync(ct))
        {
            var root = client.GetFolder(client.PersonalNamespaces[0]);
            await root.CreateAsync("Quarantine", isMessageFolder: true, ct);
            await client.DisconnectAsync(true, ct);
        }

        Assert.True(await account.FolderExistsAsync("Quarantine", ct));
        Assert.Empty(await account.ListUidsAsync("Quarantine", ct));
    }

    [Fact]
    public async Task Create_TwoAccounts_HaveSeparateMailboxes()
    {
        var ct = TestContext.Current.CancellationToken;
        var first = DovecotAccount.Create();
        var second = DovecotAccount.Create();

        await first.AppendAsync("INBOX", Sample("for the first"), ct);

        Assert.Single(await first.ListUidsAsync("INBOX", ct));
        Assert.Empty(await second.ListUidsAsync("INBOX", ct));
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
