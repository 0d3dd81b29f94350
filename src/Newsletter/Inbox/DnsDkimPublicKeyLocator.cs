using System.Collections.Concurrent;
using DnsClient;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace Newsletter.Inbox;

/// <summary>Finds DKIM public keys in DNS (<c>selector._domainkey.domain</c> TXT records); MimeKit leaves the lookup to us.</summary>
public sealed class DnsDkimPublicKeyLocator(ILookupClient dns) : DkimPublicKeyLocatorBase
{
    private readonly ConcurrentDictionary<string, AsymmetricKeyParameter> cache = new(StringComparer.OrdinalIgnoreCase);

    public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
        LocatePublicKeyAsync(methods, domain, selector, cancellationToken).GetAwaiter().GetResult();

    public override async Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default)
    {
        var name = $"{selector}._domainkey.{domain}";
        if (cache.TryGetValue(name, out var cached))
        {
            return cached;
        }
        var response = await dns.QueryAsync(name, QueryType.TXT, cancellationToken: cancellationToken);
        var txt = string.Concat(response.Answers.TxtRecords().SelectMany(r => r.Text));
        if (txt.Length == 0)
        {
            throw new ParseException($"No DKIM key published at {name}.", 0, 0);
        }
        var key = GetPublicKey(txt);
        cache[name] = key;
        return key;
    }
}
