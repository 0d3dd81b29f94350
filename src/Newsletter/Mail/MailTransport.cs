using System.Net.Sockets;
using System.Text.RegularExpressions;
using MailKit;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Newsletter.Mail;

/// <summary>What the receiving server said about one digest.</summary>
public enum SendOutcomeKind
{
    Sent,

    /// <summary>4xx or a lost connection: try again later.</summary>
    Deferred,

    /// <summary>5xx: permanent for this recipient.</summary>
    Failed,
}

public sealed record SendOutcome(SendOutcomeKind Kind, string Reply, bool RecipientUnknown = false);

/// <summary>One connection to wherever digests go. Not thread-safe: one per concurrent batch.</summary>
public interface IDigestTransport : IAsyncDisposable
{
    Task<SendOutcome> SendAsync(MimeMessage message, CancellationToken ct);

    /// <summary>Sends with <paramref name="returnPath"/> as the envelope sender (MAIL FROM), where reports of failure go;
    /// null, or a transport with no envelope, uses the message's own sender.</summary>
    Task<SendOutcome> SendAsync(MimeMessage message, MailboxAddress? returnPath, CancellationToken ct) => SendAsync(message, ct);
}

public interface IDigestTransportFactory
{
    Task<IDigestTransport> ConnectAsync(CancellationToken ct);
}

/// <summary>Thrown when the connection itself is gone; the batch reconnects and defers the message it was on.</summary>
public sealed class TransportBrokenException(string message, Exception inner) : Exception(message, inner);

public sealed class SmtpTransportFactory(IOptions<SmtpOptions> options) : IDigestTransportFactory
{
    public async Task<IDigestTransport> ConnectAsync(CancellationToken ct)
    {
        var settings = options.Value;
        var client = new DigestSmtpClient { Timeout = (int)settings.Timeout.TotalMilliseconds };
        // Our own socket with Nagle off (MailKit's default connect leaves it on, and pipelined commands then wait for
        // delayed ACKs), in a stream that sends each flush in one piece.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(settings.Timeout);
            await socket.ConnectAsync(settings.Host!, settings.Port, timeout.Token);
            await client.ConnectAsync(new SmtpSocketStream(socket), settings.Host!, settings.Port, settings.Security, timeout.Token);
            if (!string.IsNullOrEmpty(settings.Username))
            {
                // StartTlsWhenAvailable (the default) goes on in plain text when the server offers no STARTTLS.
                if (!client.IsEncrypted && !settings.AllowPlaintextAuth)
                {
                    throw new MailKit.Security.AuthenticationException(
                        $"The SMTP server {settings.Host}:{settings.Port} offered no TLS, so the password was not sent: use a server with "
                        + $"STARTTLS or TLS ({SmtpOptions.Section}:Security), or set {SmtpOptions.Section}:AllowPlaintextAuth=true.");
                }
                await client.AuthenticateAsync(settings.Username, settings.Password ?? "", timeout.Token);
            }
            return new SmtpTransport(client);
        }
        catch (Exception ex)
        {
            client.Dispose();
            socket.Dispose();
            // A server that says nothing in time, refuses at its greeting (421, 554) or fails TLS is as unreachable as
            // one that refuses the connection: the batch retries, then defers its rows, instead of failing the whole job.
            if (ex is OperationCanceledException && !ct.IsCancellationRequested)
            {
                throw new IOException($"The SMTP server {settings.Host}:{settings.Port} did not answer within {settings.Timeout}.", ex);
            }
            if (ex is SmtpCommandException or MailKit.Security.SslHandshakeException)
            {
                throw new IOException($"The SMTP server {settings.Host}:{settings.Port} refused the connection: {ex.Message}", ex);
            }
            throw;
        }
    }
}

/// <summary>MailKit's client without the message size it measures for <c>MAIL FROM ... SIZE=</c>.</summary>
internal sealed class DigestSmtpClient : SmtpClient
{
    // MailKit measures by writing the whole message once before writing it again to the server. SIZE is optional
    // (RFC 1870) and a digest stays under 102 KB (DigestRenderer.MaxMessageBytes), far below any server's limit; a
    // server that still refuses it says so after the data, and the delivery is recorded as failed like any 5xx.
    // Binary content would go by BDAT, which needs the size: measured then, as MailKit does.
    protected override Task<long> GetSizeAsync(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
        message.BodyParts.OfType<MimePart>().Any(p => p.ContentTransferEncoding == ContentEncoding.Binary)
            ? base.GetSizeAsync(options, message, cancellationToken)
            : Task.FromResult(-1L);
}

internal sealed partial class SmtpTransport(SmtpClient client) : IDigestTransport
{
    public Task<SendOutcome> SendAsync(MimeMessage message, CancellationToken ct) => SendAsync(message, null, ct);

    public async Task<SendOutcome> SendAsync(MimeMessage message, MailboxAddress? returnPath, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!client.Capabilities.HasFlag(SmtpCapabilities.UTF8) && NeedsSmtpUtf8(message, returnPath) is { } address)
        {
            // RFC 6531: such an address goes only to a server offering SMTPUTF8; sent anyway, a relay may take and mangle it.
            return new SendOutcome(SendOutcomeKind.Failed,
                $"not sent: the SMTP server does not offer SMTPUTF8, which the address {address} needs (non-ASCII characters before the @)");
        }

        try
        {
            var reply = returnPath is null
                ? await client.SendAsync(message, ct)
                : await client.SendAsync(message, returnPath, message.To.Mailboxes.Concat(message.Cc.Mailboxes).Concat(message.Bcc.Mailboxes), ct);
            return new SendOutcome(SendOutcomeKind.Sent, reply);
        }
        catch (SmtpCommandException ex)
        {
            var code = (int)ex.StatusCode;
            var reply = $"{code} {ex.Message}";
            return code is >= 400 and < 500
                ? new SendOutcome(SendOutcomeKind.Deferred, reply)
                : new SendOutcome(SendOutcomeKind.Failed, reply,
                    RecipientUnknown: ex.ErrorCode == SmtpErrorCode.RecipientNotAccepted && UnknownMailbox().IsMatch(ex.Message));
        }
        catch (Exception ex) when (ex is SmtpProtocolException or IOException or ServiceNotConnectedException or SocketException)
        {
            throw new TransportBrokenException($"The SMTP connection broke: {ex.Message}", ex);
        }
    }

    /// <summary>The first envelope address with a non-ASCII local part (a non-ASCII domain goes as punycode); null when none has.</summary>
    private static string? NeedsSmtpUtf8(MimeMessage message, MailboxAddress? returnPath) =>
        message.To.Mailboxes.Concat(message.Cc.Mailboxes).Concat(message.Bcc.Mailboxes)
            .Append(returnPath ?? message.Sender ?? message.From.Mailboxes.FirstOrDefault())
            .FirstOrDefault(mailbox => mailbox is not null && !System.Text.Ascii.IsValid(mailbox.LocalPart))?.Address;

    // RFC 3463: 5.1.x are addressing failures (no such mailbox, bad domain); those addresses bounce.
    [GeneratedRegex(@"^\s*5\.1\.\d+", RegexOptions.CultureInvariant)]
    private static partial Regex UnknownMailbox();

    public async ValueTask DisposeAsync()
    {
        if (client.IsConnected)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await client.DisconnectAsync(quit: true, timeout.Token);
            }
            catch (Exception ex) when (ex is IOException or SmtpProtocolException or OperationCanceledException or SocketException)
            {
                // Closing a connection that already broke.
            }
        }
        client.Dispose();
    }
}

/// <summary>Development stand-in for SMTP: every digest becomes an .eml file in a folder.</summary>
public sealed class PickupFolderTransportFactory(IOptions<SmtpOptions> options) : IDigestTransportFactory
{
    public Task<IDigestTransport> ConnectAsync(CancellationToken ct) =>
        Task.FromResult<IDigestTransport>(new PickupFolderTransport(options.Value.PickupFolder!));

    private sealed class PickupFolderTransport(string folder) : IDigestTransport
    {
        public async Task<SendOutcome> SendAsync(MimeMessage message, CancellationToken ct)
        {
            Directory.CreateDirectory(folder);
            var name = string.Concat((message.MessageId ?? MimeKit.Utils.MimeUtils.GenerateMessageId()).Split(Path.GetInvalidFileNameChars())) + ".eml";
            var path = Path.Combine(folder, name);
            await message.WriteToAsync(path, ct);
            return new SendOutcome(SendOutcomeKind.Sent, $"250 written to {path}");
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
