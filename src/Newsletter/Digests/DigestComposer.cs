using System.Globalization;
using MimeKit;
using MimeKit.Text;
using Newsletter.Mail;

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
        "From", "To", "Subject", "Date", "Message-ID", "Reply-To", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Id",
        "MIME-Version", "Content-Type",
    ];

    private readonly OutgoingMail _mail;

    public DigestComposer(OutgoingMail mail) => _mail = mail;

    public MimeMessage Compose(DigestEnvelope envelope, RenderedDigest body)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(body);
        var unsubscribe = RequireHttps(envelope.Links.Unsubscribe, nameof(envelope.Links.Unsubscribe));

        var message = _mail.Start(envelope.RecipientEmail, envelope.Subject, MaxSubjectLength,
            MessageIdFor(envelope.IssueId, envelope.SubscriberId, envelope.Generation, _mail.Domain));
        message.Headers.Add(HeaderId.ListId, $"<{_mail.ListId}>");
        message.Headers.Add(HeaderId.ListUnsubscribe, $"<{unsubscribe}>");
        message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        message.Headers.Add(HeaderId.Precedence, "bulk");
        message.Headers.Add(DigestHeader, DigestHeaderValue(envelope.IssueId, envelope.SubscriberId, envelope.Generation));
        // Subscribers who chose plain text get just that part; everyone else both.
        message.Body = envelope.TextOnly ? new EncodedTextPart(TextFormat.Plain, body.TextPart) : CreateBody(body.HtmlPart, body.TextPart);

        _mail.Finish(message, SignedHeaders);
        return message;
    }

    /// <summary>"digest.{issue}.{subscriber}.{generation}@{domain}" (without angle brackets): equal for a re-run of the same delivery.</summary>
    public static string MessageIdFor(long issueId, long subscriberId, int generation, string domain) =>
        string.Create(CultureInfo.InvariantCulture, $"digest.{issueId}.{subscriberId}.{generation}@{domain}");

    public static string DigestHeaderValue(long issueId, long subscriberId, int generation) =>
        string.Create(CultureInfo.InvariantCulture, $"{issueId}/{subscriberId}/{generation}");

    // Text first, HTML last: clients show the last alternative they understand.
    private static MultipartAlternative CreateBody(EncodedPart html, EncodedPart text) =>
        new() { new EncodedTextPart(TextFormat.Plain, text), new EncodedTextPart(TextFormat.Html, html) };

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
}
