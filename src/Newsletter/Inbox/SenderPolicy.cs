using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;

namespace Newsletter.Inbox;

/// <summary>
/// Decides whether a message may become an issue: it must come from a configured sender, carry a valid DKIM
/// signature where the configuration asks for one, and be neither automatic mail (auto-replies, bounces) nor
/// one of our own digests coming back.
/// </summary>
public sealed class SenderPolicy(IOptions<InboxOptions> options, IDkimPublicKeyLocator keyLocator)
{
    public async Task<string?> FindRejectionAsync(MimeMessage message, CancellationToken ct)
    {
        if (message.Headers.Contains(Digests.DigestComposer.DigestHeader))
        {
            return "one of our own digests, not a listing";
        }

        var autoSubmitted = message.Headers[HeaderId.AutoSubmitted];
        if (!string.IsNullOrWhiteSpace(autoSubmitted) && !autoSubmitted.Trim().StartsWith("no", StringComparison.OrdinalIgnoreCase))
        {
            return $"automatic mail (Auto-Submitted: {Bounded(autoSubmitted)})";
        }

        if (message.Body is MultipartReport || message.Body?.ContentType.IsMimeType("message", "delivery-status") == true)
        {
            return "a delivery status report";
        }

        var from = message.From.Mailboxes.FirstOrDefault();
        if (from is null || string.IsNullOrWhiteSpace(from.Address))
        {
            return "no From address";
        }

        var address = from.Address.Trim().ToLowerInvariant();
        if (address.StartsWith("mailer-daemon@", StringComparison.Ordinal) || address.StartsWith("postmaster@", StringComparison.Ordinal))
        {
            return $"a delivery report from {Bounded(address)}";
        }

        if (!IsAllowed(address, options.Value.AllowedSenders))
        {
            return $"sender {Bounded(address)} is not in {InboxOptions.Section}:AllowedSenders";
        }

        var domain = address[(address.LastIndexOf('@') + 1)..];
        var dkimDomain = options.Value.RequireDkimFor.FirstOrDefault(d => DomainMatches(domain, d));
        // Before our own check, which needs DNS: the receiving server's verdict stands even when that cannot run.
        if (TrustedAuthenticationResults.FindFailure(message, options.Value.TrustedAuthServIds, domain, dkimDomain) is { } failure)
        {
            return failure;
        }

        if (dkimDomain is not null && !await HasValidSignatureAsync(message, dkimDomain, ct))
        {
            return $"no valid DKIM signature for {dkimDomain}, which {InboxOptions.Section}:RequireDkimFor requires";
        }

        return null;
    }

    public static bool IsValidSenderPattern(string pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern) || pattern.Any(char.IsWhiteSpace))
        {
            return false;
        }
        var at = pattern.IndexOf('@', StringComparison.Ordinal);
        if (at > 0)
        {
            return MailboxAddress.TryParse(pattern, out _) && pattern.IndexOf('.', at) > at;
        }
        var domain = pattern.TrimStart('@');
        return domain.Length > 0 && Uri.CheckHostName(domain) == UriHostNameType.Dns;
    }

    internal static bool IsAllowed(string address, IEnumerable<string> allowed)
    {
        var domain = address[(address.LastIndexOf('@') + 1)..];
        foreach (var pattern in allowed)
        {
            var p = pattern.Trim().ToLowerInvariant();
            if (p.IndexOf('@', StringComparison.Ordinal) > 0 ? p == address : DomainMatches(domain, p.TrimStart('@')))
            {
                return true;
            }
        }
        return false;
    }

    internal static bool DomainMatches(string domain, string pattern) =>
        domain.Equals(pattern, StringComparison.OrdinalIgnoreCase)
        || domain.EndsWith("." + pattern, StringComparison.OrdinalIgnoreCase);

    private async Task<bool> HasValidSignatureAsync(MimeMessage message, string domain, CancellationToken ct)
    {
        var verifier = new DkimVerifier(keyLocator);
        foreach (var header in message.Headers.Where(h => h.Id == HeaderId.DkimSignature))
        {
            var signingDomain = TagValue(header.Value, "d");
            if (signingDomain is null || !DomainMatches(signingDomain, domain))
            {
                continue;
            }
            try
            {
                if (await verifier.VerifyAsync(message, header, ct))
                {
                    return true;
                }
            }
            catch (FormatException)
            {
                // A malformed signature is no signature; another header may still verify.
            }
            catch (NotSupportedException)
            {
                // An algorithm MimeKit does not implement cannot prove anything either.
            }
        }
        return false;
    }

    private static string? TagValue(string headerValue, string tag)
    {
        foreach (var part in headerValue.Split(';'))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && part[..eq].Trim().Equals(tag, StringComparison.OrdinalIgnoreCase))
            {
                return part[(eq + 1)..].Trim();
            }
        }
        return null;
    }

    private static string Bounded(string value) => value.Length <= 120 ? value : value[..120] + "…";
}
