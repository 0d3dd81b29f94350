using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using MimeKit;

namespace Newsletter.IntegrationTests.Infrastructure;

/// <summary>
/// A mailbox of its own on the test Dovecot: any user name logs in with the shared password, so a fresh
/// name is a fresh, empty account. Every helper has a timeout, since a MailKit connect can hang.
/// </summary>
public sealed record DovecotAccount(string Host, int Port, string UserName, string Password)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static DovecotAccount Create() =>
        new(TestEnvironment.ImapHost, TestEnvironment.ImapPort, "user-" + Guid.NewGuid().ToString("N"), TestEnvironment.ImapPassword);

    /// <summary>A connected, authenticated client; the caller disposes it.</summary>
    public async Task<ImapClient> OpenClientAsync(CancellationToken cancellationToken = default)
    {
        using var timeout = WithTimeout(cancellationToken);
        var client = new ImapClient();
        try
        {
            await client.ConnectAsync(Host, Port, SecureSocketOptions.None, timeout.Token);
            await client.AuthenticateAsync(UserName, Password, timeout.Token);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Appends a message to the folder (created if missing) and returns its UID.</summary>
    public async Task<UniqueId> AppendAsync(string folder, MimeMessage message, CancellationToken cancellationToken = default)
    {
        using var timeout = WithTimeout(cancellationToken);
        using var client = await OpenClientAsync(timeout.Token);
        var target = await GetOrCreateFolderAsync(client, folder, timeout.Token);
        var uid = await target.AppendAsync(message, MessageFlags.None, timeout.Token)
            ?? throw new InvalidOperationException("the server returned no UID for APPEND (no UIDPLUS?)");
        await client.DisconnectAsync(true, timeout.Token);
        return uid;
    }

    /// <summary>
    /// Appends a raw RFC 5322 message (e.g. an .eml file) to the folder and returns its UID. An unmodified
    /// MimeMessage writes back the bytes it was parsed from, so a CRLF file arrives byte for byte.
    /// </summary>
    public async Task<UniqueId> AppendAsync(string folder, byte[] message, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream(message, writable: false);
        return await AppendAsync(folder, await MimeMessage.LoadAsync(stream, cancellationToken), cancellationToken);
    }

    public async Task<IReadOnlyList<UniqueId>> ListUidsAsync(string folder, CancellationToken cancellationToken = default)
    {
        using var timeout = WithTimeout(cancellationToken);
        using var client = await OpenClientAsync(timeout.Token);
        var source = await client.GetFolderAsync(folder, timeout.Token);
        await source.OpenAsync(FolderAccess.ReadOnly, timeout.Token);
        var uids = await source.SearchAsync(SearchQuery.All, timeout.Token);
        await client.DisconnectAsync(true, timeout.Token);
        return [.. uids];
    }

    public async Task<bool> FolderExistsAsync(string folder, CancellationToken cancellationToken = default)
    {
        using var timeout = WithTimeout(cancellationToken);
        using var client = await OpenClientAsync(timeout.Token);
        try
        {
            await client.GetFolderAsync(folder, timeout.Token);
            return true;
        }
        catch (FolderNotFoundException)
        {
            return false;
        }
        finally
        {
            await client.DisconnectAsync(true, timeout.Token);
        }
    }

    static async Task<IMailFolder> GetOrCreateFolderAsync(ImapClient client, string folder, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetFolderAsync(folder, cancellationToken);
        }
        catch (FolderNotFoundException)
        {
            var root = client.GetFolder(client.PersonalNamespaces[0]);
            return await root.CreateAsync(folder, isMessageFolder: true, cancellationToken)
                ?? throw new InvalidOperationException($"could not create folder {folder}");
        }
    }

    static CancellationTokenSource WithTimeout(CancellationToken cancellationToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(Timeout);
        return source;
    }
}
