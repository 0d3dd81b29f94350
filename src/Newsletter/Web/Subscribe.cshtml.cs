using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Newsletter.Subscribers;

namespace Newsletter.Web;

/// <summary>
/// Double opt-in: the address becomes (or stays) pending and a confirmation mail is queued. Whatever the address,
/// the answer is the same "check your inbox" page, so the form never tells whether someone is subscribed. Every POST
/// of the page counts against the client's limit, whatever its handler.
/// </summary>
[EnableRateLimiting(WebEndpoints.SubscribePolicy)]
public sealed class SubscribeModel(SubscriptionRequests requests, IssuePreview preview, TimeProvider clock) : PageModel
{
    [BindProperty]
    public string? Email { get; set; }

    [BindProperty]
    public string? Interests { get; set; }

    [BindProperty]
    public DigestFormat Format { get; set; } = DigestFormat.Html;

    public string? EmailError { get; private set; }

    public InterestsError? InterestsError { get; private set; }

    /// <summary>The fields posted with a value that is none of their choices; null when every one was read.</summary>
    public string? UnreadError { get; private set; }

    /// <summary>Why no mail was sent: the address had the hour's mails already. Every address alike, subscribed or not.</summary>
    public string? LimitError { get; private set; }

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
            EmailError = EmailAddress.HiddenCharacter(Email) is { } hidden
                ? $"The address holds an invisible character (U+{hidden.Value:X4}), often copied along with it: type the address instead of pasting it."
                : "Enter an email address like name@example.org.";
        }

        UnreadError = UnreadFields.Describe(ModelState);
        Preview = await preview.PreviewAsync(Interests, ct);
        InterestsError = Preview.Error;
        if (EmailError is not null || InterestsError is not null || UnreadError is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        if (await requests.RequestAsync(Email!, Interests, Format, ct) is { } until)
        {
            LimitError = SubscriptionRequests.OverLimit("this address", until, clock.LocalTimeZone);
            Hosting.TooManyRequests.Answer(Response, until, clock);
            return Page();
        }
        return RedirectToPage("/CheckInbox");
    }
}
