using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;
using Newsletter.Inbox;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Security;

namespace Newsletter.Tests.Inbox;

/// <summary>
/// Headers a DKIM signature does not vouch for. A verifier checks the last copy of each signed header, while a mail
/// client (and MimeKit's <see cref="MimeMessage.From"/>) reads the first: a copy added above a signed message changes
/// what it says without breaking the signature.
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
