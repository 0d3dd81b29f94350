using System.Buffers.Text;
using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Mail;
using Newsletter.Subscribers;

namespace Newsletter.Digests;

/// <summary>
/// VERP return paths: with <c>Newsletter:Mail:BounceDomain</c> set, each digest goes out with the envelope sender
/// (MAIL FROM) <c>bounces+{signed delivery id}@{domain}</c>, so a report names the delivery it is about in the address it
/// is sent to. The id is signed like a digest link (<see cref="DigestLinkKeys"/>, purpose Bounce) and written in lower-case
/// hex, since some servers change the case of a local part: 8 + 50 characters, within the 64 a local part may have.
/// A report cannot be forged for somebody else's delivery without the key.
/// </summary>
public sealed class ReturnPaths(DigestLinkKeyStore keys, IOptions<MailOptions> mail)
{
    public const string LocalPrefix = "bounces+";

    /// <summary>The return path of a delivery; null when no bounce domain is configured (the From address is used).</summary>
    public async ValueTask<MailboxAddress?> ForAsync(long deliveryId, CancellationToken ct)
    {
        if (mail.Value.BounceDomain is not { Length: > 0 } domain)
        {
            return null;
        }
        var token = (await keys.GetKeysAsync(ct)).Sign(deliveryId, TokenPurpose.Bounce);
        return new MailboxAddress("", $"{LocalPrefix}{Convert.ToHexStringLower(Base64Url.DecodeFromChars(token))}@{domain}");
    }

    /// <summary>The delivery an address was made for by <see cref="ForAsync"/>, whatever the domain; false for any other address.</summary>
    public async ValueTask<long?> TryReadAsync(string address, CancellationToken ct)
    {
        var at = address.LastIndexOf('@');
        if (at <= LocalPrefix.Length || !address.StartsWith(LocalPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var signed = new byte[(DigestLinkKeys.TokenLength * 3) / 4];
        if (at - LocalPrefix.Length != signed.Length * 2
            || Convert.FromHexString(address.AsSpan(LocalPrefix.Length, at - LocalPrefix.Length), signed, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != signed.Length)
        {
            return null;
        }
        var verified = (await keys.GetKeysAsync(ct)).TryVerify(Base64Url.EncodeToString(signed), TokenPurpose.Bounce, out var deliveryId);
        return verified ? deliveryId : null;
    }
}
