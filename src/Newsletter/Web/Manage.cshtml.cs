using Microsoft.AspNetCore.Mvc;
using Newsletter.Subscribers;

namespace Newsletter.Web;

/// <summary>Interests, format, pause/resume and unsubscribe for the subscriber of a manage link.</summary>
public sealed class ManageModel(SubscriberTokens tokens, SubscriberStore subscribers, SubscriptionRequests requests, IssuePreview preview)
    : TokenPageModel(tokens)
{
    [BindProperty]
    public string? Interests { get; set; }

    [BindProperty]
    public DigestFormat Format { get; set; }

    public InterestsError? InterestsError { get; private set; }

    public string? Notice { get; private set; }

    public PreviewResult Preview { get; private set; } = null!;

    /// <summary>This page's address with a handler: what asp-page-handler writes, without a route lookup per button.</summary>
    public string HandlerUrl(string handler) => $"{Request.Path}?handler={handler}";

    public async Task<IActionResult> OnGetAsync(string token, bool confirmed, CancellationToken ct)
    {
        if (await ResolveAsync(token, TokenPurpose.Manage, ct) is { } refused)
        {
            return refused;
        }

        Notice = confirmed ? "Your subscription is confirmed. Digests start with the next issue." : null;
        return await ShowSavedAsync(ct);
    }

    /// <summary>Save: interests and format.</summary>
    public async Task<IActionResult> OnPostAsync(string token, CancellationToken ct)
    {
        if (await ResolveAsync(token, TokenPurpose.Manage, ct) is { } refused)
        {
            return refused;
        }

        try
        {
            await subscribers.UpdatePreferencesAsync(Subscriber.Id, Interests, Format, ct);
        }
        catch (InterestSyntaxException ex)
        {
            InterestsError = InterestsError.From(Interests, ex);
            Preview = await preview.PreviewAsync(Interests, ct);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        Subscriber = (await subscribers.GetAsync(Subscriber.Id, ct))!;
        Notice = "Saved. The next digest uses these settings.";
        return await ShowSavedAsync(ct);
    }

    public async Task<IActionResult> OnPostPreviewAsync(string token, CancellationToken ct)
    {
        if (await ResolveAsync(token, TokenPurpose.Manage, ct) is { } refused)
        {
            return refused;
        }

        Preview = await preview.PreviewAsync(Interests, ct);
        InterestsError = Preview.Error;
        Notice = "Preview only: press Save to keep these interests.";
        return Page();
    }

    public Task<IActionResult> OnPostPauseAsync(string token, CancellationToken ct) =>
        ChangeStatusAsync(token, [SubscriberStatus.Active], SubscriberStatus.Paused, "Paused. No digests until you resume.", ct);

    public Task<IActionResult> OnPostResumeAsync(string token, CancellationToken ct) =>
        ChangeStatusAsync(token, [SubscriberStatus.Paused], SubscriberStatus.Active, "Resumed. Digests start again with the next issue.", ct);

    public Task<IActionResult> OnPostUnsubscribeAsync(string token, CancellationToken ct) =>
        ChangeStatusAsync(token, [SubscriberStatus.Active, SubscriberStatus.Paused, SubscriberStatus.Bounced], SubscriberStatus.Unsubscribed,
            "You are unsubscribed and will get no more digests.", ct);

    /// <summary>A stopped address comes back through a fresh confirmation mail: this link may be in a forwarded digest.</summary>
    public async Task<IActionResult> OnPostResubscribeAsync(string token, CancellationToken ct)
    {
        if (await ResolveAsync(token, TokenPurpose.Manage, ct) is { } refused)
        {
            return refused;
        }

        if (Subscriber.Status is SubscriberStatus.Unsubscribed or SubscriberStatus.Bounced)
        {
            await requests.RequestAsync(Subscriber.Email, Subscriber.Interests, Subscriber.Format, ct);
        }
        return RedirectToPage("/CheckInbox");
    }

    private async Task<IActionResult> ChangeStatusAsync(string token, SubscriberStatus[] from, SubscriberStatus to, string notice, CancellationToken ct)
    {
        if (await ResolveAsync(token, TokenPurpose.Manage, ct) is { } refused)
        {
            return refused;
        }

        await subscribers.TransitionAsync(Subscriber.Id, from, to, ct);
        Subscriber = (await subscribers.GetAsync(Subscriber.Id, ct))!;
        Notice = notice;
        return await ShowSavedAsync(ct);
    }

    private async Task<IActionResult> ShowSavedAsync(CancellationToken ct)
    {
        ModelState.Clear();
        Interests = Subscriber.Interests;
        Format = Subscriber.Format;
        Preview = await preview.PreviewAsync(Interests, ct);
        return Page();
    }
}
