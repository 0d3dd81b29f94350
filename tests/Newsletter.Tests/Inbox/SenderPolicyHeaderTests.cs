using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;
using Newsletter.Inbox;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Security;

namespace Newsletter.Tests.Inbox;

/// <summary>
/// Headers and text a DKIM signature does not vouch for. A verifier checks the last copy of each signed header, while a
/// mail client (and MimeKit's <see cref="MimeMessage.From"/>) reads the first: a copy added above a signed message
/// changes what it says without breaking the signature. A signature with a body length (<c>l=</c>) vouches for that
/// many bytes: text added below them does not break it either.
/// </summary>
public sealed class SenderPolicyHeaderTests
{
    private const string Domain = "notifications.huggingface.co";

    private static readonly AsymmetricCipherKeyPair Keys = NewKeys();

    private static SenderPolicy Policy(params string[] allowed) => new(Options.Create(new InboxOptions
    {
        AllowedSenders = allowed.Length == 0 ? [$"papers@{Domain}"] : allowed,
        RequireDkimFor = [Domain],
    }), new KnownKeyLocator(Keys.Public));

    // A message the domain signed (From as written): anyone holding one (a notification the domain sent them, an old
    // listing) can add headers to it.
    private static MimeMessage Signed(string from, string selector = "s2025")
    {
        var message = Listings.NewMessage();
        message.Headers.Replace(HeaderId.From, from);
        message.Body = new TextPart("plain") { Text = "Mar 11" };
        new DkimSigner(Keys.Private, Domain, selector)
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        }.Sign(message, [HeaderId.From, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId]);
        return message;
    }

    /// <summary>The message as the inbox gets it: written out, then parsed again.</summary>
    private static MimeMessage AsReceived(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(stream);
        stream.Position = 0;
        return MimeMessage.Load(stream);
    }

    [Fact]
    public async Task FindRejection_SignedListingFromTheAllowedSender_Accepted()
    {
        Assert.Null(await Policy().FindRejectionAsync(AsReceived(Signed($"papers@{Domain}")), Ct));
    }

    [Fact]
    public async Task FindRejection_AllowedFromAddedAboveAnotherSignedSender_Quarantined()
    {
        var message = Signed($"someone-else@{Domain}");
        Assert.NotNull(await Policy().FindRejectionAsync(AsReceived(message), Ct));

        message.Headers.Insert(0, HeaderId.From, $"papers@{Domain}");

        Assert.Equal("more than one From header", await Policy().FindRejectionAsync(AsReceived(message), Ct));
    }

    [Theory]
    [InlineData("Date", "Tue, 10 Mar 2026 09:00:00 +0000")]
    [InlineData("Message-ID", "<fresh@attacker.example>")]
    [InlineData("Subject", "Trending papers")]
    [InlineData("Sender", "papers@notifications.huggingface.co")]
    public async Task FindRejection_AHeaderAddedAboveASignedListing_Quarantined(string name, string value)
    {
        // A genuine listing replayed as a new day: a fresh Message-ID escapes de-duplication, a new Date moves its year.
        var message = Signed($"papers@{Domain}");
        if (name == "Sender")
        {
            message.Headers.Add(HeaderId.Sender, $"papers@{Domain}");
        }

        message.Headers.Insert(0, name, value);

        Assert.Equal($"more than one {name} header", await Policy().FindRejectionAsync(AsReceived(message), Ct));
    }

    [Fact]
    public async Task FindRejection_TwoAddressesInOneFrom_Quarantined()
    {
        var message = Signed($"papers@{Domain}, someone-else@evil.example");

        Assert.Equal("more than one From address", await Policy().FindRejectionAsync(AsReceived(message), Ct));
    }

    [Fact]
    public async Task FindRejection_FromWithoutAnAtSign_IsNoAddress()
    {
        // Read as a domain, the bare name would match an allowed domain pattern.
        var message = Signed(Domain);

        Assert.Equal("no From address", await Policy("huggingface.co").FindRejectionAsync(AsReceived(message), Ct));
    }

    [Fact]
    public async Task FindRejection_ASelectorDnsCannotAsk_IsNoSignature()
    {
        // A name part over 63 characters: the DNS client refuses it with an ArgumentException.
        var message = Signed($"papers@{Domain}", selector: new string('s', 70));

        Assert.Equal($"no valid DKIM signature for {Domain}, which {InboxOptions.Section}:RequireDkimFor requires",
            await new SenderPolicy(Options.Create(new InboxOptions { AllowedSenders = [$"papers@{Domain}"], RequireDkimFor = [Domain] }),
                new SelectorCheckingLocator()).FindRejectionAsync(AsReceived(message), Ct));
    }

    [Fact]
    public async Task FindRejection_ManySignaturesOfTheDomain_ChecksOnlyTheFirstFew()
    {
        var message = Signed($"papers@{Domain}", selector: "wrong");
        var signature = message.Headers[HeaderId.DkimSignature]!;
        for (var k = 0; k < 50; k++)
        {
            message.Headers.Add(HeaderId.DkimSignature, signature);
        }
        var locator = new KnownKeyLocator(Keys.Public, onlySelector: "s2025");

        var rejection = await new SenderPolicy(Options.Create(new InboxOptions { AllowedSenders = [$"papers@{Domain}"], RequireDkimFor = [Domain] }),
            locator).FindRejectionAsync(AsReceived(message), Ct);

        Assert.NotNull(rejection);
        Assert.Equal(SenderPolicy.MaxSignaturesChecked, locator.Lookups);
    }

    [Fact]
    public async Task FindRejection_PapersAddedBelowASignatureThatCoversPartOfTheBody_Quarantined()
    {
        var message = SignedWithBodyLength("Mar 11\r\nA paper the domain sent\r\n");
        // Anyone holding the signed listing appends papers of their own; the signature still verifies.
        message.Body = new TextPart("plain") { Text = "Mar 11\r\nA paper the domain sent\r\nA paper someone added, with a link of theirs\r\n" };
        var received = AsReceived(message);
        Assert.True(await new DkimVerifier(new KnownKeyLocator(Keys.Public)).VerifyAsync(received, received.Headers[received.Headers.IndexOf(HeaderId.DkimSignature)], Ct));

        Assert.Equal($"the DKIM signature for {Domain} covers only the first {SignedLength} bytes of the body (l=), so text added below it would pass as the domain's",
            await Policy().FindRejectionAsync(received, Ct));
    }

    [Fact]
    public async Task FindRejection_ASignatureThatCoversPartOfTheBodyBesideOneThatCoversAll_Accepted()
    {
        var message = SignedWithBodyLength("Mar 11\r\nA paper the domain sent\r\n");
        new DkimSigner(Keys.Private, Domain, "s2025")
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        }.Sign(message, [HeaderId.From, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId]);

        Assert.Null(await Policy().FindRejectionAsync(AsReceived(message), Ct));
    }

    [Fact]
    public async Task FindRejection_ASignatureWhoseLengthCoversTheWholeBody_Accepted()
    {
        // Every l= was refused, even one covering the whole body: such a sender's every listing was quarantined.
        var message = SignedWithBodyLength("Mar 11\r\nA paper the domain sent\r\n");

        Assert.Null(await Policy().FindRejectionAsync(AsReceived(message), Ct));
    }

    [Fact]
    public async Task FindRejection_ABlankLineAndSpacesAddedBelowTheSignedLength_StillAccepted()
    {
        // Relaxed canonicalisation drops trailing blank lines and spaces: nothing was added that a reader would see.
        var message = SignedWithBodyLength("Mar 11\r\nA paper the domain sent\r\n");
        message.Body = new TextPart("plain") { Text = "Mar 11\r\nA paper the domain sent  \r\n\r\n" };

        Assert.Null(await Policy().FindRejectionAsync(AsReceived(message), Ct));
    }

    /// <summary>The canonical body's bytes that <see cref="SignedWithBodyLength"/>'s signature covers.</summary>
    private const int SignedLength = 33;

    /// <summary>
    /// A listing with <paramref name="text"/> signed by the domain with <c>l=</c> (RFC 6376, relaxed/relaxed), which
    /// MimeKit's signer never writes: built here from the canonical headers and body as section 3.7 says.
    /// </summary>
    private static MimeMessage SignedWithBodyLength(string text)
    {
        var message = Listings.NewMessage();
        message.Body = new TextPart("plain") { Text = text };
        var body = Encoding.ASCII.GetBytes(text);
        Assert.Equal(SignedLength, body.Length);
        var tags = $"v=1; a=rsa-sha256; c=relaxed/relaxed; d={Domain}; s=s2025; h=from:subject:date:message-id; l={body.Length}; " +
            $"bh={Convert.ToBase64String(SHA256.HashData(body))}; b=";
        var signed = new StringBuilder();
        foreach (var id in new[] { HeaderId.From, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId })
        {
            var header = message.Headers[message.Headers.LastIndexOf(id)];
            signed.Append(header.Field.ToLowerInvariant()).Append(':').Append(Relaxed(Encoding.ASCII.GetString(header.RawValue))).Append("\r\n");
        }
        signed.Append("dkim-signature:").Append(Relaxed(tags));
        var signer = SignerUtilities.GetSigner("SHA-256withRSA");
        signer.Init(true, Keys.Private);
        var data = Encoding.ASCII.GetBytes(signed.ToString());
        signer.BlockUpdate(data, 0, data.Length);
        message.Headers.Insert(0, new Header(HeaderId.DkimSignature, tags + Convert.ToBase64String(signer.GenerateSignature())));
        return message;

        // Unfolded (MimeKit keeps a header's line ends as the platform writes them), each run of spaces one space, none at either end.
        static string Relaxed(string value) => string.Join(' ', value.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal)
            .Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static AsymmetricCipherKeyPair NewKeys()
    {
        var generator = new RsaKeyPairGenerator();
        generator.Init(new KeyGenerationParameters(new SecureRandom(), 1024));
        return generator.GenerateKeyPair();
    }

    /// <summary>The domain's key, as DNS would publish it (for one selector only, when <paramref name="onlySelector"/> is set).</summary>
    private sealed class KnownKeyLocator(AsymmetricKeyParameter key, string? onlySelector = null) : DkimPublicKeyLocatorBase
    {
        public int Lookups { get; private set; }

        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default)
        {
            Lookups++;
            return onlySelector is null || selector == onlySelector ? key : throw new FormatException($"no key for selector {selector}");
        }

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
    }

    /// <summary>What the DNS client does with a name it cannot ask for.</summary>
    private sealed class SelectorCheckingLocator : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            selector.Length > 63 ? throw new ArgumentException($"Label '{selector}' is longer than 63 bytes.", nameof(selector)) : throw new IOException();

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
    }
}
