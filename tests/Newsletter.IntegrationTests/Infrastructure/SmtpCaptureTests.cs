using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Newsletter.IntegrationTests.Infrastructure;

public class SmtpCaptureTests
{
    [Fact]
    public async Task SendAsync_WithMailKit_MessageIsCapturedWithEnvelope()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        using var client = await ConnectAsync(smtp, Ct);

        await client.SendAsync(Sample("digest", "reader@example.test"), Ct);

        var received = Assert.Single(await smtp.WaitForMessagesAsync(1, cancellationToken: Ct));
        Assert.Equal("digest@example.test", received.From);
        Assert.Equal(["reader@example.test"], received.Recipients);
        Assert.Equal("digest", Assert.Single(smtp.Messages).Subject);
    }

    [Fact]
    public async Task FailNextAttempts_One451_FirstSendThrows451ThenNextSucceedsOnTheSameConnection()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        smtp.FailNextAttempts(1);
        using var client = await ConnectAsync(smtp, Ct);

        var error = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Sample("first", "reader@example.test"), Ct));
        Assert.Equal(451, (int)error.StatusCode);
        Assert.Empty(smtp.Received);

        await client.SendAsync(Sample("second", "reader@example.test"), Ct);
        Assert.Equal("second", Assert.Single(await smtp.WaitForMessagesAsync(1, cancellationToken: Ct)).Parse().Subject);
    }

    [Fact]
    public async Task FailNextAttempts_AtMailFrom_SenderIsRefusedWithTheCode()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        smtp.FailNextAttempts(2, 421, SmtpStage.MailFrom);
        using var client = await ConnectAsync(smtp, Ct);

        for (var attempt = 0; attempt < 2; attempt++)
        {
            var error = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Sample("x", "reader@example.test"), Ct));
            Assert.Equal(SmtpErrorCode.SenderNotAccepted, error.ErrorCode);
            Assert.Equal(421, (int)error.StatusCode);
        }

        await client.SendAsync(Sample("third", "reader@example.test"), Ct);
        Assert.Single(await smtp.WaitForMessagesAsync(1, cancellationToken: Ct));
    }

    [Fact]
    public async Task RejectRecipient_Address_RcptGets550AndNothingIsStored()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        smtp.RejectRecipient("gone@example.test");
        using var client = await ConnectAsync(smtp, Ct);

        var error = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Sample("x", "gone@example.test"), Ct));

        Assert.Equal(SmtpErrorCode.RecipientNotAccepted, error.ErrorCode);
        Assert.Equal(550, (int)error.StatusCode);
        Assert.Equal("gone@example.test", error.Mailbox?.Address);
        await client.SendAsync(Sample("ok", "reader@example.test"), Ct);
        Assert.Equal(["reader@example.test"], Assert.Single(await smtp.WaitForMessagesAsync(1, cancellationToken: Ct)).Recipients);
    }

    [Fact]
    public async Task WaitForMessagesAsync_TooFewMessages_ThrowsTimeout()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);

        await Assert.ThrowsAsync<TimeoutException>(() => smtp.WaitForMessagesAsync(1, TimeSpan.FromMilliseconds(100), Ct));
    }

    static async Task<SmtpClient> ConnectAsync(SmtpCapture smtp, CancellationToken ct)
    {
        var client = new SmtpClient();
        await client.ConnectAsync(smtp.Host, smtp.Port, SecureSocketOptions.None, ct);
        return client;
    }

    static MimeMessage Sample(string subject, string to) => new(
        [new MailboxAddress("Digest", "digest@example.test")],
        [new MailboxAddress("Reader", to)],
        subject,
        new TextPart("plain") { Text = "body" });
}
