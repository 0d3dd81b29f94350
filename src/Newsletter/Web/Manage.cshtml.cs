using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Newsletter.Relevance;
using Newsletter.Subscribers;

namespace Newsletter.Web;

/// <summary>Interests, format, pause/resume and unsubscribe for the subscriber of a manage link.</summary>
[IgnoreAntiforgeryToken]
[EnableRateLimiting(WebEndpoints.ManagePolicy)]
public sealed class ManageModel(
    SubscriberTokens tokens, SubscriberStore subscribers, SubscriptionRequests requests, ReaderVotes votes, IssuePreview preview, ManagePageQuery page,
    TimeProvider clock)
    : TokenPageModel(tokens)
{
    [BindProperty]
    public string? Interests { get; set; }

    [BindProperty]
    public DigestFormat Format { get; set; }

    /// <summary>How many "Also for you" papers a digest may add.</summary>
    [BindProperty]
    public int Suggestions { get; set; } = ReaderChoices.Default.Suggestions;

    [BindProperty]
    public DigestFrequency Frequency { get; set; }

    [BindProperty]
    public DayOfWeek Weekday { get; set; } = DayOfWeek.Monday;

    /// <summary>An IANA time zone for weekly digests; blank: the server's.</summary>
    [BindProperty]
    public string? TimeZone { get; set; }

    /// <summary>Leave out papers already sent when they trend again.</summary>
    [BindProperty]
    public bool NoRepeats { get; set; } = true;

    /// <summary>Why the time zone was not saved; null when it was.</summary>
    public string? TimeZoneError { get; private set; }

    public InterestsError? InterestsError { get; private set; }

    /// <summary>The fields posted with a value that is none of their choices; null when every one was read.</summary>
    public string? UnreadError { get; private set; }

    /// <summary>The papers the reader said "More like this" or "Less like this" to, newest first.</summary>
    public IReadOnlyList<ReaderVote> Votes { get; private set; } = [];

    public string? Notice { get; private set; }

    public PreviewResult Preview { get; private set; } = null!;

    private static readonly string[] SavedFields =
        [nameof(Interests), nameof(Format), nameof(Suggestions), nameof(Frequency), nameof(Weekday), nameof(TimeZone), nameof(NoRepeats)];

    /// <summary>This page's address with a handler: what asp-page-handler writes, without a route lookup per button.</summary>
    public string HandlerUrl(string handler) => $"{Request.Path}?handler={handler}";

    public async Task<IActionResult> OnGetAsync(string token, bool confirmed, CancellationToken ct)
    {
        var shown = await page.LoadAsync(token, ct);
        if (Resolve(shown.Token) is { } refused)
        {
            return refused;
        }

        // The address a confirmation opens is often kept as a bookmark: its notice holds only while digests do start.
        Notice = confirmed && Subscriber.Status == SubscriberStatus.Active ? "Your subscription is confirmed. Digests start with the next issue." : null;
        return await ShowAsync(shown.Choices, shown.Votes, ct);
    }

    /// <summary>Save: interests and format.</summary>
    public async Task<IActionResult> OnPostAsync(string token, CancellationToken ct)
    {
        if (await ResolveAsync(token, TokenPurpose.Manage, ct) is { } refused)
        {
            return refused;
        }

        // The form always sends every field; a post without one would save its default over the reader's choice.
        var form = Request.HasFormContentType ? Request.Form : FormCollection.Empty;
        if (SavedFields.Where(field => !form.ContainsKey(field)).ToArray() is { Length: > 0 } missing)
        {
            return BadRequest($"The form has no {string.Join(", ", missing)}: nothing was saved.");
        }
        if (UnreadFields.Describe(ModelState) is { } unread)
        {
            UnreadError = unread;
            // What binding could not read shows as saved, the rest as posted.
            var saved = await subscribers.GetChoicesAsync(Subscriber.Id, ct);
            Format = UnreadFields.Has(ModelState, nameof(Format)) ? Subscriber.Format : Format;
            Suggestions = UnreadFields.Has(ModelState, nameof(Suggestions)) ? saved.Suggestions : Suggestions;
            Frequency = UnreadFields.Has(ModelState, nameof(Frequency)) ? saved.Frequency : Frequency;
            Weekday = UnreadFields.Has(ModelState, nameof(Weekday)) ? saved.Weekday : Weekday;
            NoRepeats = UnreadFields.Has(ModelState, nameof(NoRepeats)) ? saved.NoRepeats : NoRepeats;
            return await ShowUnsavedAsync(ct);
        }
        if (!ReaderChoices.SuggestionCounts.Contains(Suggestions) || !Enum.IsDefined(Format) || !Enum.IsDefined(Frequency) || !Enum.IsDefined(Weekday))
        {
            return BadRequest();
        }

        try
        {
            ReaderChoices.CheckTimeZone(TimeZone);
        }
        catch (ArgumentException ex)
        {
            TimeZoneError = ex.Message;
            return await ShowUnsavedAsync(ct);
        }

        try
        {
            await subscribers.UpdatePreferencesAsync(Subscriber.Id, Interests, Format, ct);
            await subscribers.UpdateChoicesAsync(Subscriber.Id, new ReaderChoices(Suggestions)
            {
                Frequency = Frequency, Weekday = Weekday, TimeZone = TimeZone, NoRepeats = NoRepeats,
            }, ct);
        }

        catch (InterestSyntaxException ex)
        {
            InterestsError = InterestsError.From(Interests, ex);
            return await ShowUnsavedAsync(ct);
        }

        Subscriber = (await subscribers.GetAsync(Subscriber.Id, ct))!;
        Notice = Subscriber.Status switch
        {
            SubscriberStatus.Active or SubscriberStatus.Paused => "Saved. The next digest uses these settings.",
            SubscriberStatus.Pending => "Saved. These settings apply once you confirm your subscription.",
            _ => "Saved. No digests go to this address now; these settings apply if you subscribe again.",
        };
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
        Votes = await votes.ListAsync(Subscriber.Id, ct);
        Notice = "Preview only: press Save to keep these interests.";
        return Page();
    }

    /// <summary>Forgets one vote: that paper no longer moves what the digest shows.</summary>
    public async Task<IActionResult> OnPostForgetVoteAsync(string token, long paper, CancellationToken ct)
    {
        if (await ResolveAsync(token, TokenPurpose.Manage, ct) is { } refused)
        {
            return refused;
        }

        Notice = await votes.RemoveAsync(Subscriber.Id, paper, ct) ? "Forgotten. The next digest no longer counts that paper." : "That vote was already forgotten.";
        return await ShowSavedAsync(ct);
    }

    /// <summary>Forgets every vote: the digest is chosen by the keywords alone again.</summary>
    public async Task<IActionResult> OnPostResetVotesAsync(string token, CancellationToken ct)
    {
        if (await ResolveAsync(token, TokenPurpose.Manage, ct) is { } refused)
        {
            return refused;
        }

        var forgotten = await votes.ResetAsync(Subscriber.Id, ct);
        // Sent again (the back button, a second tab), the reset has nothing left: it says so rather than nothing.
        Notice = forgotten switch
        {
            0 => "Nothing to forget: your digest had learned nothing.",
            1 => "Your one vote is forgotten: your digest starts again from your keywords.",
            _ => $"All {forgotten} votes forgotten: your digest starts again from your keywords.",
        };
        return await ShowSavedAsync(ct);
    }

    public Task<IActionResult> OnPostPauseAsync(string token, CancellationToken ct) =>
        ChangeStatusAsync(token, [SubscriberStatus.Active], SubscriberStatus.Paused, "Paused. No digests until you resume.", "Not paused", ct);

    public Task<IActionResult> OnPostResumeAsync(string token, CancellationToken ct) =>
        ChangeStatusAsync(token, [SubscriberStatus.Paused], SubscriberStatus.Active, "Resumed. Digests start again with the next issue.", "Not resumed", ct);

    public Task<IActionResult> OnPostUnsubscribeAsync(string token, CancellationToken ct) =>
        ChangeStatusAsync(token, [SubscriberStatus.Active, SubscriberStatus.Paused, SubscriberStatus.Bounced], SubscriberStatus.Unsubscribed,
            "You are unsubscribed and will get no more digests.", "Not unsubscribed", ct);

    /// <summary>How the page names a status: "Status: paused".</summary>
    public static string StatusText(SubscriberStatus status) => status switch
    {
        SubscriberStatus.Active => "active",
        SubscriberStatus.Paused => "paused",
        SubscriberStatus.Unsubscribed => "unsubscribed",
        SubscriberStatus.Bounced => "stopped: mail to this address bounced",
        _ => "waiting for confirmation",
    };

    /// <summary>A stopped address comes back through a fresh confirmation mail: this link may be in a forwarded digest.</summary>
    public Task<IActionResult> OnPostResubscribeAsync(string token, CancellationToken ct) => SendConfirmationAgainAsync(token, ct);

    /// <summary>An unconfirmed address gets its confirmation mail again, as "Subscribe again" sends it.</summary>
    public Task<IActionResult> OnPostSendConfirmationAsync(string token, CancellationToken ct) => SendConfirmationAgainAsync(token, ct);

    /// <summary>A fresh confirmation mail, or why none went; past the hourly limit 429 with Retry-After, as the subscribe form.</summary>
    private async Task<IActionResult> SendConfirmationAgainAsync(string token, CancellationToken ct)
    {
        if (await ResolveAsync(token, TokenPurpose.Manage, ct) is { } refused)
        {
            return refused;
        }

        if (await requests.SubscribeAgainAsync(Subscriber, ct) is not { } notSent)
        {
            return RedirectToPage("/CheckInbox");
        }
        Notice = notSent.Notice;
        if (notSent.LimitEndsAt is { } until)
        {
            Hosting.TooManyRequests.Answer(Response, until, clock);
        }
        Subscriber = (await subscribers.GetAsync(Subscriber.Id, ct))!;
        return await ShowSavedAsync(ct);
    }

    /// <param name="done">The notice when the status changed.</param>
    /// <param name="notDone">Its start when it did not, e.g. after an unsubscribe in another tab: "Not resumed".</param>
    private async Task<IActionResult> ChangeStatusAsync(string token, SubscriberStatus[] from, SubscriberStatus to, string done, string notDone, CancellationToken ct)
    {
        if (await ResolveAsync(token, TokenPurpose.Manage, ct) is { } refused)
        {
            return refused;
        }

        var changed = await subscribers.TransitionAsync(Subscriber.Id, from, to, ct);
        Subscriber = (await subscribers.GetAsync(Subscriber.Id, ct))!;
        Notice = changed ? done
            : Subscriber.Status == to ? $"Your subscription was already {StatusText(to)}."
            : $"{notDone}, because your subscription is {StatusText(Subscriber.Status)}.";
        return await ShowSavedAsync(ct);
    }

    /// <summary>The form again as posted, with its mistake: 400, nothing saved.</summary>
    private async Task<IActionResult> ShowUnsavedAsync(CancellationToken ct)
    {
        Votes = await votes.ListAsync(Subscriber.Id, ct);
        Preview = await preview.PreviewAsync(Interests, ct);
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private async Task<IActionResult> ShowSavedAsync(CancellationToken ct) =>
        await ShowAsync(await subscribers.GetChoicesAsync(Subscriber.Id, ct), await votes.ListAsync(Subscriber.Id, ct), ct);

    private async Task<IActionResult> ShowAsync(ReaderChoices choices, IReadOnlyList<ReaderVote> saved, CancellationToken ct)
    {
        ModelState.Clear();
        Interests = Subscriber.Interests;
        Format = Subscriber.Format;
        (Suggestions, Frequency, Weekday, TimeZone, NoRepeats) = (choices.Suggestions, choices.Frequency, choices.Weekday, choices.TimeZone, choices.NoRepeats);
        Votes = saved;
        Preview = await preview.PreviewAsync(Interests, ct);
        return Page();
    }
}
