using MimeKit;
using MimeKit.Cryptography;
using Newsletter.Database;

namespace Newsletter.Inbox;

/// <summary>
/// What the receiving mail servers named in <c>Newsletter:Inbox:TrustedAuthServIds</c> wrote in their
/// Authentication-Results headers (RFC 8601). Only a failure is acted on: a header can never make a message trusted,
/// so one forged with a trusted server's id gains the forger nothing.
/// </summary>
internal static class TrustedAuthenticationResults
{
    /// <summary>Why the message must be quarantined, or null when no trusted header says it failed.</summary>
    /// <param name="fromDomain">The domain of the From address.</param>
    /// <param name="requiredDkimDomain">The domain whose DKIM signature the configuration requires, if any.</param>
    public static string? FindFailure(MimeMessage message, IReadOnlyCollection<string> trustedIds, string fromDomain, string? requiredDkimDomain)
    {
        if (trustedIds.Count == 0)
        {
            return null;
        }

        var results = new List<(string Server, string Method, string Result, string? Domain)>();
        foreach (var header in message.Headers.Where(h => h.Id == HeaderId.AuthenticationResults))
        {
            if (!AuthenticationResults.TryParse(header.RawValue, out var parsed))
            {
                continue;
            }

            foreach (var result in parsed.Results)
            {
                // Office 365 writes its id into each result instead of the header's start.
                var server = parsed.AuthenticationServiceIdentifier ?? result.Office365AuthenticationServiceIdentifier;
                if (server is not null && trustedIds.Contains(server, StringComparer.OrdinalIgnoreCase) && result.Method is { } method)
                {
                    results.Add((server, method.ToLowerInvariant(), result.Result?.ToLowerInvariant() ?? "", Domain(result)));
                }
            }
        }

        if (results.Count == 0)
        {
            return null;
        }

        var dmarcFail = results.FirstOrDefault(r => r.Method == "dmarc" && r.Result == "fail" && (r.Domain is null || Aligned(r.Domain, fromDomain)));
        if (dmarcFail.Server is not null)
        {
            return $"the Authentication-Results of {Bounded(dmarcFail.Server)} say dmarc=fail for {Bounded(dmarcFail.Domain ?? fromDomain)}";
        }

        var dkim = results.Where(r => r.Method == "dkim").ToList();
        var alignedPass = dkim.Any(r => r.Result == "pass" && r.Domain is not null && Aligned(r.Domain, fromDomain));
        var dkimFail = dkim.FirstOrDefault(r => r.Result == "fail" && (r.Domain is null || Aligned(r.Domain, fromDomain)));
        if (!alignedPass && dkimFail.Server is not null)
        {
            return $"the Authentication-Results of {Bounded(dkimFail.Server)} say dkim=fail for {Bounded(dkimFail.Domain ?? fromDomain)}";
        }

        if (requiredDkimDomain is not null && !dkim.Any(r => r.Result == "pass" && r.Domain is not null && SenderPolicy.DomainMatches(r.Domain, requiredDkimDomain)))
        {
            return $"the Authentication-Results of {Bounded(results[0].Server)} show no dkim=pass for {requiredDkimDomain}, which {InboxOptions.Section}:RequireDkimFor requires";
        }

        return null;
    }

    // The domain a result is about: header.d of a DKIM signature (or the domain of header.i), header.from of DMARC.
    private static string? Domain(AuthenticationMethodResult result)
    {
        foreach (var property in result.Properties)
        {
            if (!property.PropertyType.Equals("header", StringComparison.OrdinalIgnoreCase) || property.Value is not { Length: > 0 } value)
            {
                continue;
            }

            var name = property.Property.ToLowerInvariant();
            if (name is "d" or "from")
            {
                return value.Trim().ToLowerInvariant();
            }

            if (name == "i")
            {
                return value[(value.LastIndexOf('@') + 1)..].Trim().ToLowerInvariant();
            }
        }

        return null;
    }

    // Relaxed alignment (RFC 7489): one domain is the other or a subdomain of it.
    private static bool Aligned(string domain, string fromDomain) =>
        SenderPolicy.DomainMatches(domain, fromDomain) || SenderPolicy.DomainMatches(fromDomain, domain);

    private static string Bounded(string value) => StoredText.Shortened(value, 100);
}
