using MimeKit;
using MimeKit.Utils;
using Newsletter.Mail;

namespace Newsletter.Subscribers;

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

    private const int MaxSubjectLength = 200;

    private static readonly string[] SignedHeaders = ["From", "To", "Subject", "Date", "Message-ID", "Reply-To", "MIME-Version", "Content-Type"];

    private readonly EmailTemplates _templates;
    private readonly OutgoingMail _mail;

    public ConfirmationMailRenderer(EmailTemplates templates, OutgoingMail mail)
    {
        _templates = templates;
        _mail = mail;
    }

    public async Task<MimeMessage> ComposeAsync(ConfirmationMailView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var html = await _templates.RenderAsync(HtmlKey, view).ConfigureAwait(false);
        var text = await _templates.RenderAsync(TextKey, view).ConfigureAwait(false);
        var message = _mail.Start(view.Email, view.Title, MaxSubjectLength, MimeUtils.GenerateMessageId(_mail.Domain));
        message.Body = new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody();
        _mail.Finish(message, SignedHeaders);
        return message;
    }
}
