using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using Newsletter.Digests;
using Newsletter.Tests.Digests;
using Newsletter.Web;
using Newsletter.Subscribers;
using Newsletter.Mail;

namespace Newsletter.Tests.Web;

public sealed class ConfirmationMailRendererTests(RendererFixture fixture) : IClassFixture<RendererFixture>
{
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2025, 3, 11, 7, 0, 0, TimeSpan.Zero));

    private static ConfirmationMailView View => new("ada@example.org", "https://papers.lab.example.org/confirm/tok-confirm", false, 48);

    [Fact]
    public async Task ComposeAsync_WithDkimKey_SignedLikeTheDigestsAndTamperingIsDetected()
    {
        using var key = new DkimTestKey();
        var renderer = new ConfirmationMailRenderer(fixture.Templates, new OutgoingMail(Options.Create(new MailOptions
        {
            From = "Newsletter <digest@lab.example.org>",
            ListId = "papers.lab.example.org",
            DkimPrivateKeyPath = key.Path,
            DkimSelector = "digest2025",
        }), Clock));

        var message = Roundtrip(await renderer.ComposeAsync(View));

        var (signature, valid) = await key.VerifyAsync(message);
        Assert.True(valid);
        Assert.Contains("d=lab.example.org", signature.Value, StringComparison.Ordinal);
        Assert.Contains("https://papers.lab.example.org/confirm/tok-confirm", message.HtmlBody, StringComparison.Ordinal);

        message.Subject = "Tampered";
        Assert.False((await key.VerifyAsync(message)).Valid);
    }

    [Fact]
    public async Task ComposeAsync_WithoutDkimKey_NoSignature()
    {
        var renderer = new ConfirmationMailRenderer(fixture.Templates, new OutgoingMail(Options.Create(new MailOptions
        {
            From = "Newsletter <digest@lab.example.org>",
            ListId = "papers.lab.example.org",
        }), Clock));

        var message = Roundtrip(await renderer.ComposeAsync(View));

        Assert.DoesNotContain(message.Headers, h => h.Id == HeaderId.DkimSignature);
        Assert.Equal("Confirm your subscription", message.Subject);
    }

    /// <summary>What a receiving server sees: the message written to the wire and parsed back.</summary>
    private static MimeMessage Roundtrip(MimeMessage message)
    {
        using var wire = new MemoryStream();
        message.WriteTo(wire);
        wire.Position = 0;
        return MimeMessage.Load(wire);
    }
}
