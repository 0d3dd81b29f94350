using MimeKit;
using MimeKit.Cryptography;

namespace Newsletter.Mail;

/// <summary>
/// DKIM-signs what Newsletter sends when <c>Newsletter:Mail</c> names a key: digests and confirmation mails alike, so
/// both pass the sender domain's DMARC policy (an unsigned confirmation mail is the one a new subscriber never sees).
/// </summary>
public sealed class MailSigner
{
    private readonly DkimSigner? _signer;

    public MailSigner(MailOptions mail, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(mail);
        ArgumentNullException.ThrowIfNull(time);
        if (string.IsNullOrWhiteSpace(mail.DkimPrivateKeyPath))
        {
            return;
        }

        var domain = string.IsNullOrWhiteSpace(mail.DkimDomain) ? MailboxAddress.Parse(mail.From).Domain : mail.DkimDomain;
        _signer = new ClockedDkimSigner(mail.DkimPrivateKeyPath, domain, mail.DkimSelector!, time)
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        };
    }

    /// <summary>Signs <paramref name="message"/> over <paramref name="headers"/>; does nothing when no key is configured.</summary>
    public void Sign(MimeMessage message, IList<string> headers)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_signer is null)
        {
            return;
        }

        // The signature covers the body as sent: fix its transfer encoding first so no relay re-encodes it.
        message.Prepare(EncodingConstraint.SevenBit);
        _signer.Sign(message, headers);
    }

    /// <summary>DKIM signer whose t= comes from the injected clock.</summary>
    private sealed class ClockedDkimSigner(string keyPath, string domain, string selector, TimeProvider time)
        : DkimSigner(keyPath, domain, selector, DkimSignatureAlgorithm.RsaSha256)
    {
        protected override long GetTimestamp() => time.GetUtcNow().ToUnixTimeSeconds();
    }
}
