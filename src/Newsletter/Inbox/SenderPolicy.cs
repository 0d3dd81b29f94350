using System.Globalization;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;
using Newsletter.Database;

namespace Newsletter.Inbox;

/// <summary>
/// Decides whether a message may become an issue: it must come from a configured sender, carry a valid DKIM
/// signature where the configuration asks for one, and be neither automatic mail (auto-replies, bounces) nor
/// one of our own digests coming back.
/// </summary>
public sealed class SenderPolicy(IOptions<InboxOptions> options, IDkimPublicKeyLocator keyLocator)
{
    /// <summary>Signatures of the sender's domain verified at most: each hashes the whole body before its key is looked up.</summary>
    public const int MaxSignaturesChecked = 3;

    // RFC 5322 allows each once. DKIM vouches for the last copy and readers take the first, so a copy added above a signed
    // message would change its sender, date or identity without breaking the signature.
    private static readonly string[] SingleHeaders = ["From", "Sender", "Date", "Message-ID", "Subject"];

    public async Task<string?> FindRejectionAsync(MimeMessage message, CancellationToken ct)
    {
        if (message.Headers.Contains(Digests.DigestComposer.DigestHeader))
        {
            return "one of our own digests, not a listing";
        }

        foreach (var name in SingleHeaders)
        {
            if (message.Headers.Count(h => h.Field.Equals(name, StringComparison.OrdinalIgnoreCase)) > 1)
            {
                return $"more than one {name} header";
            }
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

        if (message.From.Count > 1)
        {
            return "more than one From address";
        }

        var from = message.From.Mailboxes.FirstOrDefault();
        if (from is null || string.IsNullOrWhiteSpace(from.Address) || !from.Address.Contains('@', StringComparison.Ordinal))
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

        if (dkimDomain is not null && await FindSignatureProblemAsync(message, dkimDomain, ct) is { } problem)
        {
            return problem;
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

    /// <summary>Null when a signature of <paramref name="domain"/> vouches for the whole message; else why none does.</summary>
    private async Task<string?> FindSignatureProblemAsync(MimeMessage message, string domain, CancellationToken ct)
    {
        var verifier = new DkimVerifier(keyLocator);
        var checkedSignatures = 0;
        string? partial = null;
        foreach (var header in message.Headers.Where(h => h.Id == HeaderId.DkimSignature))
        {
            var signingDomain = TagValue(header.Value, "d");
            if (signingDomain is null || !DomainMatches(signingDomain, domain))
            {
                continue;
            }
            // A body length (l=) vouches for that many bytes: papers and links added below them would pass as the domain's.
            // One that reaches the end of the canonical body the verifier hashes vouches for all of it.
            if (TagValue(header.Value, "l") is { } length)
            {
                var parsed = long.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes);
                if (!parsed || bytes < CanonicalBodyLength(message, RelaxedBody(header.Value), ct))
                {
                    var covered = parsed ? $"the first {bytes} bytes" : "part";
                    partial ??= $"the DKIM signature for {domain} covers only {covered} of the body (l=), so text added below it would pass as the domain's";
                    continue;
                }
            }
            if (++checkedSignatures > MaxSignaturesChecked)
            {
                break;
            }
            try
            {
                if (await verifier.VerifyAsync(message, header, ct))
                {
                    return null;
                }
            }
            catch (FormatException)
            {
                // A malformed signature is no signature; another header may still verify.
            }
            catch (ArgumentException)
            {
                // Nor is one whose selector DNS cannot even ask for (a label over 63 characters).
            }
            catch (NotSupportedException)
            {
                // An algorithm MimeKit does not implement cannot prove anything either.
            }
        }
        return partial ?? $"no valid DKIM signature for {domain}, which {InboxOptions.Section}:RequireDkimFor requires";
    }

    /// <summary>The body canonicalisation of a signature's <c>c=</c> tag (header/body; body simple when left out).</summary>
    private static bool RelaxedBody(string headerValue) =>
        TagValue(headerValue, "c") is { } c && c.Split('/') is [_, var body] && body.Trim().Equals("relaxed", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The length of the body as the DKIM verifier hashes it (RFC 6376 3.4.3 and 3.4.4): written with CRLF line ends, as
    /// MimeKit's verifier writes it; relaxed, each run of spaces and tabs is one space and none end a line; trailing
    /// empty lines are dropped, and a body that is not empty ends in CRLF (simple: an empty one is CRLF).
    /// </summary>
    internal static long CanonicalBodyLength(MimeMessage message, bool relaxed, CancellationToken ct)
    {
        using var raw = new MemoryStream();
        message.Body?.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Dos }, raw, contentOnly: true, ct);
        var text = System.Text.Encoding.Latin1.GetString(raw.GetBuffer(), 0, (int)raw.Length);
        var lines = text.Split("\r\n").ToList();
        if (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1); // the split after the last CRLF
        }
        if (relaxed)
        {
            lines = lines.ConvertAll(line => CollapsedSpaces(line).TrimEnd(' '));
        }
        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }
        if (lines.Count == 0)
        {
            return relaxed ? 0 : 2;
        }
        return lines.Sum(line => (long)line.Length + 2);

        static string CollapsedSpaces(string line)
        {
            var collapsed = new System.Text.StringBuilder(line.Length);
            foreach (var ch in line)
            {
                var space = ch is ' ' or '\t';
                if (!space || collapsed.Length == 0 || collapsed[^1] != ' ')
                {
                    collapsed.Append(space ? ' ' : ch);
                }
            }
            return collapsed.ToString();
        }
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

    private static string Bounded(string value) => StoredText.Shortened(value, 120);
}
