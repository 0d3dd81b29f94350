namespace Newsletter.Mail;

/// <summary>What every HTML email layout needs from the page it wraps.</summary>
public interface IEmailPage
{
    string Title { get; }

    /// <summary>Hidden preview line that mail clients show next to the subject.</summary>
    string Preheader { get; }

    string Language { get; }
}
