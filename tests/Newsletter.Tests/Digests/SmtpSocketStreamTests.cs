using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Newsletter.Digests;
using Xunit;
using Newsletter.Mail;

namespace Newsletter.Tests.Digests;

/// <summary>The SMTP socket stream over real loopback sockets: what MailKit and TLS rely on.</summary>
public sealed class SmtpSocketStreamTests
{
    // Without the flush before a read both sides would wait for each other: the timeout turns that into a failure.
    [Fact(Timeout = 60_000)]
    public async Task WriteThenRead_PendingDataIsSentBeforeTheReplyIsAwaited()
    {
        var ct = TestContext.Current.CancellationToken;
        var (client, server) = await ConnectedPairAsync(ct);
        using var serverSocket = server;
        await using var stream = new SmtpSocketStream(client) { ReadTimeout = 30_000, WriteTimeout = 30_000 };
        var message = RandomNumberGenerator.GetBytes(40_000);

        // MailKit writes 4 KB at a time and never flushes before it reads a reply.
        for (var offset = 0; offset < message.Length; offset += 4096)
        {
            await stream.WriteAsync(message.AsMemory(offset, Math.Min(4096, message.Length - offset)), ct);
        }
        var reply = new byte[3];
        var read = stream.ReadAsync(reply, ct);

        var received = new byte[message.Length];
        for (var at = 0; at < received.Length;)
        {
            at += await server.ReceiveAsync(received.AsMemory(at), SocketFlags.None, ct);
        }
        await server.SendAsync("250"u8.ToArray(), SocketFlags.None, ct);

        Assert.Equal(3, await read);
        Assert.Equal("250"u8.ToArray(), reply);
        Assert.Equal(message, received);
    }

    [Fact(Timeout = 60_000)]
    public async Task TlsHandshake_OverTheStream_CompletesAndCarriesData()
    {
        var ct = TestContext.Current.CancellationToken;
        var (client, server) = await ConnectedPairAsync(ct);
        using var certificate = SelfSigned();
        await using var serverTls = new SslStream(new NetworkStream(server, ownsSocket: true));
        await using var clientTls = new SslStream(new SmtpSocketStream(client) { ReadTimeout = 30_000, WriteTimeout = 30_000 }, false,
            (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString());

        await Task.WhenAll(
            serverTls.AuthenticateAsServerAsync(certificate),
            clientTls.AuthenticateAsClientAsync("smtp.test"));
        await clientTls.WriteAsync("EHLO lab.example.org\r\n"u8.ToArray(), ct);
        await clientTls.FlushAsync(ct);
        var buffer = new byte[64];
        var count = await serverTls.ReadAsync(buffer, ct);

        Assert.Equal("EHLO lab.example.org\r\n", System.Text.Encoding.ASCII.GetString(buffer, 0, count));
    }

    [Fact]
    public async Task ReadAsync_ServerSilent_FailsAsIOExceptionAfterTheTimeout()
    {
        var ct = TestContext.Current.CancellationToken;
        var (client, server) = await ConnectedPairAsync(ct);
        using var serverSocket = server;
        await using var stream = new SmtpSocketStream(client) { ReadTimeout = 200 };

        var error = await Assert.ThrowsAsync<IOException>(async () => _ = await stream.ReadAsync(new byte[16], ct));

        Assert.Contains("did not answer within 200 ms", error.Message, StringComparison.Ordinal);
    }

    private static async Task<(Socket Client, Socket Server)> ConnectedPairAsync(CancellationToken ct)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accepted = listener.AcceptAsync(ct);
        await client.ConnectAsync(listener.LocalEndPoint!, ct);
        return (client, await accepted);
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=smtp.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        // SslStream on Linux wants the key in an exportable form.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}
