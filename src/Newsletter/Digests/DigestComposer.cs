using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Text;

namespace Newsletter.Digests;

/// <summary>Who gets a digest and which delivery it is: (issue, subscriber, generation) names the Message-ID.</summary>
public sealed record DigestEnvelope(
    string RecipientEmail,
    long IssueId,
    long SubscriberId,
    int Generation,
    string Subject,
    DigestLinks Links,
    bool TextOnly = false);

/// <summary>Builds the MIME message of a rendered digest: headers mail providers expect, both bodies, optional DKIM.</summary>
public sealed class DigestComposer
{
    /// <summary>Header carrying "{issue}/{subscriber}/{generation}"; the inbox uses it to recognise our own digests.</summary>
    public const string DigestHeader = "X-Newsletter-Digest";

    private const int MaxSubjectLength = 200;

    private static readonly string[] SignedHeaders =
    [
        "From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Id",
        "MIME-Version", "Content-Type",
    ];

    private readonly MailboxAddress _from;
    private readonly MailboxAddress? _replyTo;
    private readonly string _listId;
    private readonly MailSigner _signer;
    private readonly TimeProvider _time;

    public DigestComposer(IOptions<MailOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        var mail = options.Value;
        _time = time;
        _from = MailboxAddress.Parse(mail.From);
        _replyTo = string.IsNullOrWhiteSpace(mail.ReplyTo) ? null : MailboxAddress.Parse(mail.ReplyTo);
        _listId = mail.ListId;
        _signer = new MailSigner(mail, time);
    }

    public MimeMessage Compose(DigestEnvelope envelope, RenderedDigest body)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(body);
        var unsubscribe = RequireHttps(envelope.Links.Unsubscribe, nameof(envelope.Links.Unsubscribe));

        var message = new MimeMessage();
        // A fresh copy for each message: an address added to a list is subscribed to by that list, so one shared
        // instance would keep every message ever composed alive (1 GB after 20,000 digests).
        message.From.Add(new MailboxAddress(_from.Encoding, _from.Name, _from.Address));
        if (_replyTo is not null)
        {
            message.ReplyTo.Add(new MailboxAddress(_replyTo.Encoding, _replyTo.Name, _replyTo.Address));
        }

        message.To.Add(Recipient(envelope.RecipientEmail));
        message.Subject = HeaderText(envelope.Subject, MaxSubjectLength);
        message.Date = _time.GetUtcNow();
        message.MessageId = MessageIdFor(envelope.IssueId, envelope.SubscriberId, envelope.Generation, _from.Domain);
        message.Headers.Add(HeaderId.ListId, $"<{_listId}>");
        message.Headers.Add(HeaderId.ListUnsubscribe, $"<{unsubscribe}>");
        message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        message.Headers.Add("Auto-Submitted", "auto-generated");
        message.Headers.Add(HeaderId.Precedence, "bulk");
        message.Headers.Add(DigestHeader, DigestHeaderValue(envelope.IssueId, envelope.SubscriberId, envelope.Generation));
        // Subscribers who chose plain text get just that part; everyone else both.
        message.Body = envelope.TextOnly ? TextBody(body.TextPart) : CreateBody(body.HtmlPart, body.TextPart);

        _signer.Sign(message, SignedHeaders);
        return message;
    }

    /// <summary>"digest.{issue}.{subscriber}.{generation}@{domain}" (without angle brackets): equal for a re-run of the same delivery.</summary>
    public static string MessageIdFor(long issueId, long subscriberId, int generation, string domain) =>
        string.Create(CultureInfo.InvariantCulture, $"digest.{issueId}.{subscriberId}.{generation}@{domain}");

    public static string DigestHeaderValue(long issueId, long subscriberId, int generation) =>
        string.Create(CultureInfo.InvariantCulture, $"{issueId}/{subscriberId}/{generation}");

    // Text first, HTML last: clients show the last alternative they understand.
    private static MultipartAlternative CreateBody(EncodedPart html, EncodedPart text) =>
        new() { Part(TextFormat.Plain, text), Part(TextFormat.Html, html) };

    private static TextPart TextBody(EncodedPart text) => Part(TextFormat.Plain, text);

    /// <summary>A part whose content is already quoted-printable: MimeKit copies it to the wire instead of encoding it.</summary>
    private static TextPart Part(TextFormat format, EncodedPart content)
    {
        var part = new TextPart(format) { ContentTransferEncoding = ContentEncoding.QuotedPrintable };
        part.ContentType.Charset = "utf-8";
        part.Content = new MimeContent(content.OpenRead(), ContentEncoding.QuotedPrintable);
        return part;
    }

    private static MailboxAddress Recipient(string address)
    {
        if (string.IsNullOrEmpty(address) || address.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) ||
            !MailboxAddress.TryParse(address, out var mailbox) || mailbox.Name?.Length > 0)
        {
            throw new ArgumentException("Recipient must be a bare email address.", nameof(address));
        }

        return mailbox;
    }

    private static string RequireHttps(string url, string name)
    {
        // RFC 8058 wants https; plain http is allowed only for a site on this machine (the development run).
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) ||
            !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)) ||
            url.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or '"'))
        {
            throw new ArgumentException($"{name} link must be an absolute https URL (http only for localhost).", name);
        }

        return url;
    }

    /// <summary>Untrusted text for a header: control characters (CR, LF, ...) and line separators become spaces.</summary>
    internal static string HeaderText(string value, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(Math.Min(value.Length, maxLength));
        foreach (var c in value)
        {
            if (builder.Length == maxLength)
            {
                break;
            }

            var separator = char.IsControl(c) || c is '\u2028' or '\u2029';
            if (!separator || (builder.Length > 0 && builder[^1] != ' '))
            {
                builder.Append(separator ? ' ' : c);
            }
        }

        // Do not leave half a surrogate pair at the cut.
        if (builder.Length > 0 && char.IsHighSurrogate(builder[^1]))
        {
            builder.Length--;
        }

        return builder.ToString().Trim();
    }
}
