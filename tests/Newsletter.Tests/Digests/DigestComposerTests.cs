using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using Newsletter.Digests;
using Xunit;
using Newsletter.Mail;

namespace Newsletter.Tests.Digests;

public sealed class DigestComposerTests
{
    // Each part in pieces, as the renderer makes them (a frame around cached paper blocks): read in order, twice when
    // the message is signed (the DKIM body hash, then the wire).
    private static readonly RenderedDigest Body = new(
        EncodedPart.Concat([EncodedPart.Encode("<!DOCTYPE html><html lang=\"en\"><body>"), EncodedPart.Encode("<p>Hello &amp; welcome</p></body></html>")]),
        EncodedPart.Concat([EncodedPart.Encode("Hello & welcome "), EncodedPart.Encode("to the café =)\n")]), 1);
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2025, 3, 11, 7, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Compose_Envelope_ListAndAutomationHeadersExact()
    {
        var message = Roundtrip(Composer().Compose(Envelope(), Body));

        Assert.Equal("<https://papers.lab.example.org/unsubscribe/tok-unsub>", message.Headers["List-Unsubscribe"]);
        Assert.Equal("List-Unsubscribe=One-Click", message.Headers["List-Unsubscribe-Post"]);
        Assert.Equal("<papers.lab.example.org>", message.Headers["List-Id"]);
        Assert.Equal("auto-generated", message.Headers["Auto-Submitted"]);
        Assert.Equal("bulk", message.Headers["Precedence"]);
        Assert.Equal("42/7/1", message.Headers[DigestComposer.DigestHeader]);
        Assert.Equal("digest.42.7.1@lab.example.org", message.MessageId);
        var from = Assert.Single(message.From.Mailboxes);
        Assert.Equal(("Newsletter", "digest@lab.example.org"), (from.Name, from.Address));
        Assert.Equal("replies@lab.example.org", Assert.Single(message.ReplyTo.Mailboxes).Address);
        Assert.Equal("ada@example.org", Assert.Single(message.To.Mailboxes).Address);
        Assert.Equal("Your papers for 11 March 2025", message.Subject);
        Assert.Equal(Clock.GetUtcNow(), message.Date);
    }

    [Fact]
    public void Compose_SameTripleTwice_SameMessageIdAndOtherGenerationDiffers()
    {
        var composer = Composer();

        var first = composer.Compose(Envelope(), Body);
        var again = composer.Compose(Envelope(), Body);
        var resend = composer.Compose(Envelope() with { Generation = 2 }, Body);

        Assert.Equal(first.MessageId, again.MessageId);
        Assert.NotEqual(first.MessageId, resend.MessageId);
        Assert.Equal("digest.42.7.2@lab.example.org", resend.MessageId);
    }

    [Fact]
    public void Compose_Body_MultipartAlternativeTextThenHtml()
    {
        var message = Roundtrip(Composer().Compose(Envelope(), Body));

        var alternative = Assert.IsType<MultipartAlternative>(message.Body);
        Assert.Collection(
            alternative,
            part => Assert.Equal("text/plain", part.ContentType.MimeType),
            part => Assert.Equal("text/html", part.ContentType.MimeType));
        Assert.Equal("Hello & welcome to the café =)\n", alternative.TextBody!.ReplaceLineEndings("\n"));
        Assert.Contains("Hello &amp; welcome", alternative.HtmlBody, StringComparison.Ordinal);
        Assert.All(alternative.OfType<TextPart>(), p => Assert.Equal("utf-8", p.ContentType.Charset));
    }

    [Theory]
    [InlineData("Hi\r\nBcc: victim@example.net")]
    [InlineData("Hi\nBcc: victim@example.net")]
    [InlineData("Hi\rBcc: victim@example.net")]
    [InlineData("Hi\u2028Bcc: victim@example.net\u0085X-Evil: 1")]
    public void Compose_SubjectWithLineBreaks_NoHeaderInjected(string subject)
    {
        var message = Roundtrip(Composer().Compose(Envelope() with { Subject = subject }, Body));

        Assert.Empty(message.Bcc);
        Assert.DoesNotContain(message.Headers, h => h.Field is "Bcc" or "X-Evil");
        Assert.StartsWith("Hi Bcc: victim@example.net", message.Subject, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', message.Subject!);
        Assert.DoesNotContain('\n', message.Subject!);
    }

    [Theory]
    [InlineData("ada@example.org\r\nBcc: victim@example.net")]
    [InlineData("Ada <ada@example.org>")]
    [InlineData("ada@example.org, eve@example.net")]
    public void Compose_RecipientNotOneBareAddress_Throws(string recipient)
    {
        Assert.Throws<ArgumentException>(() => Composer().Compose(Envelope() with { RecipientEmail = recipient }, Body));
    }

    [Theory]
    [InlineData("http://papers.lab.example.org/unsubscribe/tok")]
    [InlineData("https://papers.lab.example.org/unsubscribe/tok>\r\nBcc: victim@example.net")]
    [InlineData("mailto:unsubscribe@lab.example.org")]
    public void Compose_UnsubscribeLinkNotPlainHttps_Throws(string link)
    {
        var envelope = Envelope() with { Links = DigestSamples.Links with { Unsubscribe = link } };

        Assert.Throws<ArgumentException>(() => Composer().Compose(envelope, Body));
    }

    [Fact]
    public void Compose_LongSubject_Truncated()
    {
        var message = Composer().Compose(Envelope() with { Subject = new string('x', 5000) }, Body);

        Assert.Equal(200, message.Subject!.Length);
    }

    [Fact]
    public async Task Compose_WithDkimKey_SignatureVerifiesWithPublicKey()
    {
        using var key = new DkimTestKey();
        var options = MailOptions();
        options.DkimPrivateKeyPath = key.Path;
        options.DkimSelector = "digest2025";
        var composer = new DigestComposer(new OutgoingMail(Options.Create(options), Clock));

        var message = Roundtrip(composer.Compose(Envelope(), Body));

        var (signature, valid) = await key.VerifyAsync(message);
        Assert.True(valid);
        Assert.Contains("d=lab.example.org", signature.Value, StringComparison.Ordinal);
        Assert.Contains("s=digest2025", signature.Value, StringComparison.Ordinal);
        Assert.Contains("c=relaxed/relaxed", signature.Value, StringComparison.Ordinal);
        var signed = signature.Value[(signature.Value.IndexOf("h=", StringComparison.Ordinal) + 2)..];
        signed = string.Concat(signed[..signed.IndexOf(';', StringComparison.Ordinal)].Where(c => !char.IsWhiteSpace(c))).ToUpperInvariant();
        Assert.Superset(
            new HashSet<string> { "FROM", "SUBJECT", "DATE", "TO", "MESSAGE-ID", "LIST-UNSUBSCRIBE", "LIST-UNSUBSCRIBE-POST", "MIME-VERSION", "CONTENT-TYPE", "REPLY-TO" },
            signed.Split(':').ToHashSet());

        // Where replies go is vouched for too, as in the confirmation mail: changed in transit, the signature fails.
        var redirected = Roundtrip(message);
        redirected.ReplyTo.Clear();
        redirected.ReplyTo.Add(MailboxAddress.Parse("attacker@evil.example"));
        Assert.False((await key.VerifyAsync(redirected)).Valid);
        message.Subject = "Tampered";
        Assert.False((await key.VerifyAsync(message)).Valid);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Compose_WrittenForSmtp_TheBytesMimeKitsLineEndFilterWritesAndASignatureThatVerifies(bool textOnly)
    {
        using var key = new DkimTestKey();
        var options = MailOptions();
        options.DkimPrivateKeyPath = key.Path;
        options.DkimSelector = "digest2025";
        var composer = new DigestComposer(new OutgoingMail(Options.Create(options), Clock));
        // Long lines (soft line breaks), non-ASCII, "=" and a line that starts with a dot, in pieces like a digest's.
        var paragraph = string.Concat(Enumerable.Repeat("Naïve diffusion = low-rank attention, 50% faster. ", 6));
        var body = new RenderedDigest(
            EncodedPart.Concat([EncodedPart.Encode("<html><body>\n<p>" + paragraph + "</p>\n"), EncodedPart.Encode(".hidden\n</body></html>")]),
            EncodedPart.Concat([EncodedPart.Encode(paragraph + "\n\n"), EncodedPart.Encode(".\nend")]), 1);
        var message = composer.Compose(Envelope() with { TextOnly = textOnly }, body);
        var smtp = FormatOptions.Default.Clone();
        smtp.NewLineFormat = NewLineFormat.Dos;
        var unix = FormatOptions.Default.Clone();
        unix.NewLineFormat = NewLineFormat.Unix;

        var wire = Write(message, smtp);
        using var wireAsync = new MemoryStream();
        await message.WriteToAsync(smtp, wireAsync, TestContext.Current.CancellationToken);

        // MimeKit writes LF through its own filter; CRLF is that with every line end made CRLF.
        var lf = System.Text.Encoding.ASCII.GetString(Write(message, unix));
        Assert.DoesNotContain("\r", lf, StringComparison.Ordinal);
        Assert.Equal(lf.Replace("\n", "\r\n", StringComparison.Ordinal), System.Text.Encoding.ASCII.GetString(wire));
        Assert.Equal(wire, wireAsync.ToArray());
        var received = MimeMessage.Load(new MemoryStream(wire), TestContext.Current.CancellationToken);
        Assert.True((await key.VerifyAsync(received)).Valid);
        Assert.Equal(body.Text, received.TextBody!.ReplaceLineEndings("\n"));
        Assert.Equal(textOnly ? null : body.Html, received.HtmlBody?.ReplaceLineEndings("\n"));

        static byte[] Write(MimeMessage message, FormatOptions format)
        {
            using var stream = new MemoryStream();
            message.WriteTo(format, stream);
            return stream.ToArray();
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(77)]
    [InlineData(78)]
    [InlineData(79)]
    [InlineData(16 * 1024)]
    public void WireChunks_AnyBufferSize_TheContentWithCrlfLineEnds(int bufferBytes)
    {
        var paragraph = string.Concat(Enumerable.Repeat("Naïve diffusion = low-rank attention, 50% faster. ", 6));
        var part = EncodedPart.Concat([EncodedPart.Encode(paragraph + "\n\n"), EncodedPart.Encode(""), EncodedPart.Encode("a\nb\n\nc")]);
        using var stored = new MemoryStream();
        part.OpenRead().CopyTo(stored);

        var wire = part.WireChunks(new byte[bufferBytes]).SelectMany(chunk => chunk.ToArray()).ToArray();

        var expected = System.Text.Encoding.ASCII.GetString(stored.ToArray()).Replace("\n", "\r\n", StringComparison.Ordinal);
        Assert.Equal(expected, System.Text.Encoding.ASCII.GetString(wire));
        Assert.Equal(part.WireLength, wire.Length);
    }

    [Fact]
    public void MailOptions_MissingFromOrBadListId_Invalid()
    {
        var errors = Validate(new MailOptions { From = "", ListId = "not a list id" });

        Assert.Contains(errors, e => e.MemberNames.Contains(nameof(Newsletter.Mail.MailOptions.From)));
        Assert.Contains(errors, e => e.MemberNames.Contains(nameof(Newsletter.Mail.MailOptions.ListId)));
        Assert.Empty(Validate(MailOptions()));
    }

    [Fact]
    public void MailOptions_DkimKeyWithoutSelector_Invalid()
    {
        var options = MailOptions();
        options.DkimPrivateKeyPath = "/nonexistent/dkim.pem";

        var errors = Validate(options);

        Assert.Contains(errors, e => e.MemberNames.Contains(nameof(Newsletter.Mail.MailOptions.DkimSelector)));
        Assert.Contains(errors, e => e.MemberNames.Contains(nameof(Newsletter.Mail.MailOptions.DkimPrivateKeyPath)));
    }

    [Fact]
    public void Compose_ManyDigests_SentMessagesAreNotKeptAliveByTheComposer()
    {
        // A From address shared by every message used to collect a Changed subscription from each one, so a worker
        // kept every digest it had sent (about 50 KB each) until it stopped.
        var sent = ComposeAndForget(Composer());

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(sent.TryGetTarget(out _), "a composed message outlived its last use");
    }

    // Not inlined, so no local of this frame keeps the message reachable in a Debug build.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference<MimeMessage> ComposeAndForget(DigestComposer composer) =>
        new(composer.Compose(Envelope(), Body));

    private static List<ValidationResult> Validate(MailOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        if (results.Count == 0)
        {
            results.AddRange(options.Validate(new ValidationContext(options)));
        }

        return results;
    }

    private static MailOptions MailOptions() => new()
    {
        From = "Newsletter <digest@lab.example.org>",
        ReplyTo = "replies@lab.example.org",
        ListId = "papers.lab.example.org",
    };

    private static DigestComposer Composer() => new(new OutgoingMail(Options.Create(MailOptions()), Clock));

    private static DigestEnvelope Envelope() => DigestSamples.Envelope();

    /// <summary>What a receiving server sees: the message written to the wire and parsed back.</summary>
    private static MimeMessage Roundtrip(MimeMessage message)
    {
        using var wire = new MemoryStream();
        message.WriteTo(wire);
        wire.Position = 0;
        return MimeMessage.Load(wire);
    }
}
