using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Newsletter.Mail;

/// <summary>
/// Starts every message Newsletter sends with the same headers (From, Reply-To, To, Subject, Date, Message-ID,
/// Auto-Submitted) and signs it when it is finished: digests and confirmation mails differ only in what they add.
/// </summary>
public sealed class OutgoingMail
{
    private readonly MailboxAddress _from;
    private readonly MailboxAddress? _replyTo;
    private readonly MailSigner _signer;
    private readonly TimeProvider _clock;

    public OutgoingMail(IOptions<MailOptions> options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        var mail = options.Value;
        _from = MailboxAddress.Parse(mail.From);
        _replyTo = string.IsNullOrWhiteSpace(mail.ReplyTo) ? null : MailboxAddress.Parse(mail.ReplyTo);
        ListId = string.IsNullOrWhiteSpace(mail.ListId) ? MailOptions.DefaultListId(_from) : mail.ListId;
        _signer = new MailSigner(mail, clock);
        _clock = clock;
    }

    /// <summary>The domain of the From address: Message-IDs end with it.</summary>
    public string Domain => _from.Domain;

    public string ListId { get; }

    /// <summary>A message to one bare address; <paramref name="subject"/> may be untrusted text (see <see cref="HeaderText"/>).</summary>
    public MimeMessage Start(string recipient, string subject, int maxSubjectLength, string messageId)
    {
        var message = new MimeMessage();
        // A fresh copy for each message: an address added to a list is subscribed to by that list, so one shared
        // instance would keep every message ever composed alive.
        message.From.Add(new MailboxAddress(_from.Encoding, _from.Name, _from.Address));
        if (_replyTo is not null)
        {
            message.ReplyTo.Add(new MailboxAddress(_replyTo.Encoding, _replyTo.Name, _replyTo.Address));
        }
        message.To.Add(Recipient(recipient));
        message.Subject = HeaderText(subject, maxSubjectLength);
        message.Date = _clock.GetUtcNow();
        message.MessageId = messageId;
        message.Headers.Add("Auto-Submitted", "auto-generated");
        return message;
    }

    /// <summary>DKIM-signs the finished message over <paramref name="headers"/> when a key is configured.</summary>
    public void Finish(MimeMessage message, IList<string> headers) => _signer.Sign(message, headers);

    private static MailboxAddress Recipient(string address)
    {
        if (string.IsNullOrEmpty(address) || address.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) ||
            !MailboxAddress.TryParse(address, out var mailbox) || mailbox.Name?.Length > 0)
        {
            throw new ArgumentException("Recipient must be a bare email address.", nameof(address));
        }
        return mailbox;
    }

    /// <summary>Untrusted text for a header: control characters (CR, LF, ...) and line separators become spaces.</summary>
    public static string HeaderText(string value, int maxLength)
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
