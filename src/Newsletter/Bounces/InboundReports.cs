using System.Text.RegularExpressions;
using MimeKit;
using Newsletter.Database;
using Newsletter.Digests;

namespace Newsletter.Bounces;

public enum BounceKind
{
    /// <summary>5.x.x, or a server that gave up after retrying a 4.x.x: the delivery failed.</summary>
    Permanent,

    /// <summary>4.x.x, the server still trying (a delay warning); only counted.</summary>
    Transient,
}

/// <summary>A message in the inbox that answers one of ours instead of being a listing.</summary>
public abstract record InboundReport;

/// <summary>An RFC 3464 delivery status notification, read for the one recipient it is about.</summary>
/// <param name="Kind">Null when the report tells of success (delivered, relayed, expanded).</param>
/// <param name="Status">The RFC 3463 enhanced status code, e.g. 5.1.1.</param>
/// <param name="Recipients">The Original- and Final-Recipient addresses of that recipient.</param>
/// <param name="ReturnPaths">Addresses the report was sent to: where a VERP return path shows up.</param>
/// <param name="UnsubscribeTokens">The signed tokens of the unsubscribe links in the headers the report returns: a digest's
/// own <c>List-Unsubscribe</c> names its delivery, where its Message-ID only names numbers anyone can guess.</param>
public sealed record DeliveryReport(
    BounceKind? Kind,
    string Status,
    string? Action,
    IReadOnlyList<string> Recipients,
    string? Diagnostic,
    IReadOnlyList<string> ReturnPaths,
    IReadOnlyList<string> UnsubscribeTokens) : InboundReport;

/// <summary>An out-of-office or other automatic reply; <paramref name="Sign"/> says how it was recognised.</summary>
public sealed record AutoReply(string Sign) : InboundReport;

/// <summary>
/// Tells delivery reports and auto-replies apart from everything else, before anything is judged as a listing.
/// A report is <c>multipart/report; report-type=delivery-status</c> with a <c>message/delivery-status</c> part (MimeKit's
/// <see cref="MessageDeliveryStatus"/>); it is checked first, since servers mark reports <c>Auto-Submitted: auto-replied</c>
/// too. An auto-reply is marked so by RFC 3834 (<c>Auto-Submitted: auto-replied</c>), by the headers autoresponders set
/// without it (X-Autoreply, X-Autorespond, <c>Precedence: auto_reply</c>), or by its subject ("Out of Office", ...).
/// Read receipts (<c>report-type=disposition-notification</c>) are automatic replies as well.
/// </summary>
public static partial class InboundReports
{
    private static readonly string[] AutoReplyHeaders = ["X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autoreply-From"];

    // Subjects autoresponders write (Exchange, Outlook, Gmail, Thunderbird, Zimbra, ...), in the languages seen most.
    private static readonly string[] AutoReplySubjects =
    [
        "Out of Office", "Out-of-Office", "Out of the Office", "Automatic reply", "Auto reply", "Auto-reply", "Autoreply",
        "Auto response", "Auto-response", "Autoresponse", "Automatische Antwort", "Abwesenheitsnotiz", "Réponse automatique",
        "Respuesta automática", "Risposta automatica", "Automatisch antwoord", "Autosvar", "Automaattinen vastaus",
    ];

    /// <summary>A delivery report or an auto-reply; null for anything else, which goes on to be judged as a listing.</summary>
    public static InboundReport? Classify(MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Body is MultipartReport report)
        {
            if (report.ReportType?.Equals("disposition-notification", StringComparison.OrdinalIgnoreCase) == true)
            {
                return new AutoReply("a read receipt (report-type=disposition-notification)");
            }
            if (Parts(report).OfType<MessageDeliveryStatus>().FirstOrDefault() is { } status)
            {
                try
                {
                    return ReadDeliveryReport(message, report, status);
                }
                catch (FormatException)
                {
                    // Fields MimeKit cannot read: not a report we can act on; the sender policy quarantines it as one.
                    return null;
                }
            }
        }
        return FindAutoReplySign(message) is { } sign ? new AutoReply(sign) : null;
    }

    private static string? FindAutoReplySign(MimeMessage message)
    {
        var autoSubmitted = message.Headers[HeaderId.AutoSubmitted]?.Trim();
        if (autoSubmitted?.StartsWith("auto-replied", StringComparison.OrdinalIgnoreCase) == true)
        {
            return "Auto-Submitted: auto-replied";
        }
        if (AutoReplyHeaders.FirstOrDefault(message.Headers.Contains) is { } header)
        {
            return $"{header} header";
        }
        foreach (var name in new[] { "Precedence", "X-Precedence" })
        {
            if (message.Headers[name]?.Trim().Equals("auto_reply", StringComparison.OrdinalIgnoreCase) == true)
            {
                return $"{name}: auto_reply";
            }
        }
        var subject = message.Subject?.TrimStart() ?? "";
        return AutoReplySubjects.FirstOrDefault(s => subject.StartsWith(s, StringComparison.OrdinalIgnoreCase)) is { } prefix
            ? $"subject \"{prefix}…\""
            : null;
    }

    private static DeliveryReport ReadDeliveryReport(MimeMessage message, MultipartReport report, MessageDeliveryStatus status)
    {
        var groups = status.StatusGroups;
        var perMessage = groups.Count > 0 ? groups[0] : new HeaderList();
        // A digest has one recipient: the report is about the first that failed, else the first delayed, else the first.
        var recipients = groups.Skip(1).ToList();
        var recipient = recipients.FirstOrDefault(g => ActionOf(g) == "failed")
            ?? recipients.FirstOrDefault(g => ActionOf(g) == "delayed")
            ?? recipients.FirstOrDefault()
            ?? new HeaderList();
        var action = ActionOf(recipient);
        var code = StatusCode().Match(recipient["Status"] ?? "") is { Success: true } match
            ? match.Value
            : action switch { "failed" => "5.0.0", "delayed" => "4.0.0", _ => "2.0.0" };
        // A server that gave up ("failed") after retrying still quotes the last temporary status: the digest did not arrive.
        BounceKind? kind = code[0] switch
        {
            '5' => BounceKind.Permanent,
            '4' => action == "failed" ? BounceKind.Permanent : BounceKind.Transient,
            _ => null,
        };

        var returned = Parts(report).OfType<MessagePart>().Select(p => p.Message).OfType<MimeMessage>().ToList();
        var returnPaths = new List<string>();
        foreach (var name in new[] { "To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To" })
        {
            returnPaths.AddRange(message.Headers.Where(h => h.Field.Equals(name, StringComparison.OrdinalIgnoreCase)).SelectMany(h => Addresses(h.Value)));
        }
        returnPaths.AddRange(Addresses(TypedAddress(perMessage["X-Postfix-Sender"])));
        returnPaths.AddRange(returned.SelectMany(m => Addresses(m.Headers[HeaderId.ReturnPath])));

        // A report returns one message; a few more are read, never every copy a forged report could hold.
        var unsubscribeTokens = returned.Take(3).Select(m => UnsubscribeToken(m.Headers[HeaderId.ListUnsubscribe])).OfType<string>();

        return new DeliveryReport(
            kind,
            code,
            action,
            new[] { recipient["Original-Recipient"], recipient["Final-Recipient"] }.Select(TypedAddress).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
            Bounded(recipient["Diagnostic-Code"]),
            returnPaths.Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
            unsubscribeTokens.Distinct(StringComparer.Ordinal).ToList());
    }

    /// <summary>The token of the first web link to <c>/unsubscribe/{token}</c> in a List-Unsubscribe value, as
    /// <see cref="DigestComposer"/> writes it; null when there is none. The token's signature is what counts.</summary>
    internal static string? UnsubscribeToken(string? listUnsubscribe)
    {
        if (listUnsubscribe is null)
        {
            return null;
        }
        foreach (Match link in AngleBracketed().Matches(listUnsubscribe))
        {
            if (Uri.TryCreate(link.Groups[1].Value.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
                && uri.Segments is [.., var parent, var token] && parent.Equals("unsubscribe/", StringComparison.OrdinalIgnoreCase)
                && token.Length is > 0 and <= 100)
            {
                return token;
            }
        }
        return null;
    }

    private static string? ActionOf(HeaderList group) => group["Action"]?.Trim().ToLowerInvariant();

    /// <summary>"rfc822; user@example.org" → "user@example.org" (address types other than rfc822 are left out).</summary>
    private static string? TypedAddress(string? field)
    {
        if (field is null)
        {
            return null;
        }
        var semicolon = field.IndexOf(';', StringComparison.Ordinal);
        if (semicolon < 0 || !field[..semicolon].Trim().Equals("rfc822", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var address = field[(semicolon + 1)..].Trim().Trim('<', '>');
        return address.Contains('@', StringComparison.Ordinal) ? address : null;
    }

    private static IEnumerable<string> Addresses(string? field)
    {
        if (string.IsNullOrWhiteSpace(field))
        {
            return [];
        }
        return InternetAddressList.TryParse(field, out var list)
            ? list.Mailboxes.Select(m => m.Address)
            : [field.Trim().Trim('<', '>')];
    }

    private static IEnumerable<MimeEntity> Parts(Multipart multipart)
    {
        foreach (var part in multipart)
        {
            if (part is Multipart nested)
            {
                foreach (var inner in Parts(nested))
                {
                    yield return inner;
                }
            }
            else
            {
                yield return part;
            }
        }
    }

    private static string? Bounded(string? text)
    {
        if (text is null)
        {
            return null;
        }
        var flat = Whitespace().Replace(text, " ").Trim();
        return StoredText.Shortened(flat, 500);
    }

    [GeneratedRegex(@"[245]\.\d{1,3}\.\d{1,3}", RegexOptions.CultureInvariant)]
    private static partial Regex StatusCode();

    [GeneratedRegex(@"<([^<>]{1,2000})>", RegexOptions.CultureInvariant)]
    private static partial Regex AngleBracketed();

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Whitespace();
}
