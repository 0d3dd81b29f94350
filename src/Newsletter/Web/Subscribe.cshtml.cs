using Hangfire;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers;

namespace Newsletter.Web;

/// <summary>
/// Double opt-in: the address becomes (or stays) pending and a confirmation mail is queued. Whatever the address,
/// the answer is the same "check your inbox" page, so the form never tells whether someone is subscribed.
/// </summary>
public sealed class SubscribeModel(
    SubscriberStore subscribers,
    ConfirmationMails mails,
    IBackgroundJobClient jobs,
    IssuePreview preview,
    IOptions<WebOptions> options) : PageModel
{
    [BindProperty]
    public string? Email { get; set; }

    [BindProperty]
    public string? Interests { get; set; }

    [BindProperty]
    public DigestFormat Format { get; set; } = DigestFormat.Html;

    public string? EmailError { get; private set; }

    public InterestsError? InterestsError { get; private set; }

    public PreviewResult Preview { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken ct) => Preview = await preview.PreviewAsync(Interests, ct);

    public async Task<IActionResult> OnPostPreviewAsync(CancellationToken ct)
    {
        Preview = await preview.PreviewAsync(Interests, ct);
        InterestsError = Preview.Error;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        try
        {
            EmailAddress.Normalize(Email);
        }
        catch (ArgumentException)
        {
            EmailError = "Enter an email address like name@example.org.";
        }

        Preview = await preview.PreviewAsync(Interests, ct);
        InterestsError = Preview.Error;
        if (EmailError is not null || InterestsError is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var subscriberId = await subscribers.RequestAsync(Email!, Interests, Format, ct);
        if (await mails.TryRequestAsync(subscriberId, options.Value.ConfirmationMailsPerHour, ct) is { } mailId)
        {
            ConfirmationMailJob.Queue(jobs, mailId);
        }

        return RedirectToPage("/CheckInbox");
    }
}
