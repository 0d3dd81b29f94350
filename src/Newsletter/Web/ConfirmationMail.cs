using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Utils;
using Newsletter.Digests;

namespace Newsletter.Web;

/// <summary>The model of templates/Confirm: a confirmation link, or a manage link for an address already subscribed.</summary>
public sealed class ConfirmationMailView(string email, string link, bool alreadySubscribed, int expiresInHours) : IEmailPage
{
    public string Email { get; } = email;

    public string Link { get; } = link;

    public bool AlreadySubscribed { get; } = alreadySubscribed;

    public int ExpiresInHours { get; } = expiresInHours;

    public string Title => AlreadySubscribed ? "You are already subscribed" : "Confirm your subscription";

    public string Preheader => AlreadySubscribed
        ? "This address already receives the trending papers digest."
        : "One click to start receiving the trending papers digest.";

    public string Language => "en";
}

/// <summary>Renders and composes confirmation mails with the shared email layout and CSS. Singleton, thread-safe.</summary>
public sealed class ConfirmationMailRenderer
{
    internal const string HtmlKey = "Confirm/Confirm.html";
    internal const string TextKey = "Confirm/Confirm.text";

    private readonly EmailTemplates _templates;
    private readonly MailboxAddress _from;
    private readonly MailboxAddress? _replyTo;
    private readonly TimeProvider _clock;
    private readonly MailSigner _signer;

    private static readonly string[] SignedHeaders = ["From", "To", "Subject", "Date", "Message-ID", "Reply-To", "MIME-Version", "Content-Type"];

    public ConfirmationMailRenderer(EmailTemplates templates, IOptions<MailOptions> mail, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(mail);
        _templates = templates;
        _from = MailboxAddress.Parse(mail.Value.From);
        _replyTo = string.IsNullOrWhiteSpace(mail.Value.ReplyTo) ? null : MailboxAddress.Parse(mail.Value.ReplyTo);
        _clock = clock;
        _signer = new MailSigner(mail.Value, clock);
    }

    public async Task<MimeMessage> ComposeAsync(ConfirmationMailView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var html = await _templates.RenderAsync(HtmlKey, view).ConfigureAwait(false);
        var text = await _templates.RenderAsync(TextKey, view).ConfigureAwait(false);
        var message = new MimeMessage();
        // A fresh copy for each message: an address added to a list is subscribed to by that list, so one shared
        // instance would keep every message ever composed alive (1 GB after 20,000 digests).
        message.From.Add(new MailboxAddress(_from.Encoding, _from.Name, _from.Address));
        if (_replyTo is not null)
        {
            message.ReplyTo.Add(new MailboxAddress(_replyTo.Encoding, _replyTo.Name, _replyTo.Address));
        }

        message.To.Add(new MailboxAddress("", view.Email));
        message.Subject = view.Title;
        message.Date = _clock.GetUtcNow();
        message.MessageId = MimeUtils.GenerateMessageId(_from.Domain);
        message.Headers.Add("Auto-Submitted", "auto-generated");
        message.Body = new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody();
        _signer.Sign(message, SignedHeaders);
        return message;
    }
}
