using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;
using Newsletter.Hosting;
using Newsletter.Inbox;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Security;

namespace Newsletter.Tests.Inbox;

/// <summary>
/// Authentication-Results from the receiving server named in Newsletter:Inbox:TrustedAuthServIds. The key locator
/// stands for DNS being down: our own DKIM check cannot run, and the receiving server's verdict must still stand.
/// </summary>
public sealed class SenderPolicyAuthenticationResultsTests
{
    private const string Trusted = "mx.lab.example.org";

    private static SenderPolicy Policy(bool requireDkim) => new(Options.Create(new InboxOptions
    {
        AllowedSenders = ["papers@notifications.huggingface.co"],
        RequireDkimFor = requireDkim ? ["notifications.huggingface.co"] : [],
        TrustedAuthServIds = [Trusted],
    }), new DnsDownLocator());

    private static readonly AsymmetricKeyParameter SigningKey = NewSigningKey();

    // A listing signed by its domain: verifying the signature needs the domain's key from DNS.
    private static MimeMessage Message(params string[] authenticationResults)
    {
        var message = Listings.NewMessage();
        message.Body = new TextPart("plain") { Text = "Mar 11" };
        new DkimSigner(SigningKey, "notifications.huggingface.co", "s2025")
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        }.Sign(message, [HeaderId.From, HeaderId.Subject, HeaderId.Date]);
        foreach (var value in authenticationResults)
        {
            message.Headers.Add(HeaderId.AuthenticationResults, value);
        }

        return message;
    }

    private static AsymmetricKeyParameter NewSigningKey()
    {
        var generator = new RsaKeyPairGenerator();
        generator.Init(new KeyGenerationParameters(new SecureRandom(), 1024));
        return generator.GenerateKeyPair().Private;
    }

    [Fact]
    public async Task FindRejection_TrustedServerSaysDkimFailAndDnsIsDown_Quarantines()
    {
        var message = Message($"{Trusted}; dkim=fail (signature did not verify) header.d=notifications.huggingface.co header.s=s2025; "
            + "spf=pass smtp.mailfrom=notifications.huggingface.co");

        var rejection = await Policy(requireDkim: true).FindRejectionAsync(message, TestContext.Current.CancellationToken);

        Assert.Equal($"the Authentication-Results of {Trusted} say dkim=fail for notifications.huggingface.co", rejection);
    }

    [Fact]
    public async Task FindRejection_TrustedServerSaysDmarcFailWithoutDkimRequired_Quarantines()
    {
        var message = Message($"{Trusted}; dkim=none; spf=softfail smtp.mailfrom=evil.example; dmarc=fail (p=reject) header.from=notifications.huggingface.co");

        var rejection = await Policy(requireDkim: false).FindRejectionAsync(message, TestContext.Current.CancellationToken);

        Assert.Equal($"the Authentication-Results of {Trusted} say dmarc=fail for notifications.huggingface.co", rejection);
    }

    [Fact]
    public async Task FindRejection_TrustedServerShowsNoPassWhereDkimIsRequired_Quarantines()
    {
        var message = Message($"{Trusted}; dkim=none (no signatures found); spf=pass smtp.mailfrom=notifications.huggingface.co");

        var rejection = await Policy(requireDkim: true).FindRejectionAsync(message, TestContext.Current.CancellationToken);

        Assert.Equal($"the Authentication-Results of {Trusted} show no dkim=pass for notifications.huggingface.co, which Newsletter:Inbox:RequireDkimFor requires", rejection);
    }

    [Fact]
    public async Task FindRejection_FailureFromAnUntrustedServer_IsIgnored()
    {
        var message = Message("mx.elsewhere.example; dkim=fail header.d=notifications.huggingface.co; dmarc=fail header.from=notifications.huggingface.co");

        Assert.Null(await Policy(requireDkim: false).FindRejectionAsync(message, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task FindRejection_FailedSignatureOfAnotherDomainBesideAnAlignedPass_IsAccepted()
    {
        var message = Message($"{Trusted}; dkim=fail header.d=esp-mailer.example; dkim=pass header.d=notifications.huggingface.co; dmarc=pass header.from=notifications.huggingface.co");

        Assert.Null(await Policy(requireDkim: false).FindRejectionAsync(message, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task FindRejection_TrustedPassWhereDkimIsRequired_StillNeedsOurOwnCheck()
    {
        // A header can be forged; only our own verification of the signature accepts a message.
        var message = Message($"{Trusted}; dkim=pass header.d=notifications.huggingface.co; dmarc=pass header.from=notifications.huggingface.co");

        await Assert.ThrowsAsync<IOException>(() => Policy(requireDkim: true).FindRejectionAsync(message, TestContext.Current.CancellationToken));
    }

    // DNS is unreachable: looking up a DKIM key fails, as it would in production.
    private sealed class DnsDownLocator : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            throw new IOException("DNS is unreachable");

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            throw new IOException("DNS is unreachable");
    }
}
