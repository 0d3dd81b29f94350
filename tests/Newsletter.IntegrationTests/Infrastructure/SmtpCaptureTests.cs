using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Newsletter.IntegrationTests.Infrastructure;

public class SmtpCaptureTests
{
    [Fact]
    public async Task SendAsync_WithMailKit_MessageIsCapturedWithEnvelope()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var smtp = await SmtpCapture.StartAsync(ct);
        using var client = await ConnectAsync(smtp, ct);

        await client.SendAsync(Sample("digest", "reader@example.test"), ct);

        var received = Assert.Single(await smtp.WaitForMessagesAsync(1, cancellationToken: ct));
        Assert.Equal("digest@example.test", received.From);
        Assert.Equal(["reader@example.test"], received.Recipients);
        Assert.Equal("digest", Assert.Single(smtp.Messages).Subject);
    }

    [Fact]
    public async Task FailNextAttempts_One451_FirstSendThrows451ThenNextSucceedsOnTheSameConnection()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var smtp = await SmtpCapture.StartAsync(ct);
        smtp.FailNextAttempts(1);
        using var client = await ConnectAsync(smtp, ct);

        var error = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Sample("first", "reader@example.test"), ct));
        Assert.Equal(451, (int)error.StatusCode);
        Assert.Empty(smtp.Received);

        await client.SendAsync(Sample("second", "reader@example.test"), ct);
        Assert.Equal("second", Assert.Single(await smtp.WaitForMessagesAsync(1, cancellationToken: ct)).Parse().Subject);
    }

    [Fact]
    public async Task FailNextAttempts_AtMailFrom_SenderIsRefusedWithTheCode()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var smtp = await SmtpCapture.StartAsync(ct);
        smtp.FailNextAttempts(2, 421, SmtpStage.MailFrom);
        using var client = await ConnectAsync(smtp, ct);

        for (var attempt = 0; attempt < 2; attempt++)
        {
            var error = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Sample("x", "reader@example.test"), ct));
            Assert.Equal(SmtpErrorCode.SenderNotAccepted, error.ErrorCode);
            Assert.Equal(421, (int)error.StatusCode);
        }

        await client.SendAsync(Sample("third", "reader@example.test"), ct);
        Assert.Single(await smtp.WaitForMessagesAsync(1, cancellationToken: ct));
    }

    [Fact]
    public async Task RejectRecipient_Address_RcptGets550AndNothingIsStored()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var smtp = await SmtpCapture.StartAsync(ct);
        smtp.RejectRecipient("gone@example.test");
        using var client = await ConnectAsync(smtp, ct);

        var error = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(Sample("x", "gone@example.test"), ct));

        Assert.Equal(SmtpErrorCode.RecipientNotAccepted, error.ErrorCode);
        Assert.Equal(550, (int)error.StatusCode);
        Assert.Equal("gone@example.test", error.Mailbox?.Address);
        await client.SendAsync(Sample("ok", "reader@example.test"), ct);
        Assert.Equal(["reader@example.test"], Assert.Single(await smtp.WaitForMessagesAsync(1, cancellationToken: ct)).Recipients);
    }

    [Fact]
    public async Task WaitForMessagesAsync_TooFewMessages_ThrowsTimeout()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var smtp = await SmtpCapture.StartAsync(ct);

        await Assert.ThrowsAsync<TimeoutException>(() => smtp.WaitForMessagesAsync(1, TimeSpan.FromMilliseconds(100), ct));
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
