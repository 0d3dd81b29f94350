using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;
using Newsletter.Subscribers;

namespace Newsletter.Web;

/// <summary>
/// GET shows one button and changes nothing. POST unsubscribes: either the page's form (antiforgery checked here,
/// since the page as a whole must also take the RFC 8058 one-click POST, which carries no cookies and no form token)
/// or the one-click body <c>List-Unsubscribe=One-Click</c>, answered 200 with a short text, idempotent.
/// </summary>
[IgnoreAntiforgeryToken]
public sealed class UnsubscribeModel(
    SubscriberTokens tokens, SubscriberStore subscribers, SubscriptionRequests requests, IAntiforgery antiforgery, TimeProvider clock)
    : TokenPageModel(tokens)
{
    private static readonly SubscriberStatus[] Subscribed = [SubscriberStatus.Active, SubscriberStatus.Paused, SubscriberStatus.Bounced, SubscriberStatus.Pending];

    public bool Unsubscribed { get; private set; }

    /// <summary>What "Subscribe again" did when it sent no mail; null otherwise.</summary>
    public string? Notice { get; private set; }

    public async Task<IActionResult> OnGetAsync(string token, CancellationToken ct) =>
        await ResolveAsync(token, TokenPurpose.Unsubscribe, ct) ?? Page();

    public async Task<IActionResult> OnPostAsync(string token, CancellationToken ct)
    {
        if (await IsOneClickAsync(ct))
        {
            var match = await Tokens.FindAsync(token, TokenPurpose.Unsubscribe, ct);
            if (match.State != TokenState.Valid)
            {
                return new ContentResult
                {
                    StatusCode = match.State == TokenState.Expired ? StatusCodes.Status410Gone : StatusCodes.Status404NotFound,
                    Content = "Unknown or expired unsubscribe link.\n",
                    ContentType = "text/plain; charset=utf-8",
                };
            }

            await subscribers.TransitionAsync(match.Subscriber!.Id, Subscribed, SubscriberStatus.Unsubscribed, ct);
            return Content("Unsubscribed.\n", "text/plain; charset=utf-8");
        }

        if (!await antiforgery.IsRequestValidAsync(HttpContext))
        {
            return BadRequest();
        }

        if (await ResolveAsync(token, TokenPurpose.Unsubscribe, ct) is { } refused)
        {
            return refused;
        }

        await subscribers.TransitionAsync(Subscriber.Id, Subscribed, SubscriberStatus.Unsubscribed, ct);
        Unsubscribed = true;
        return Page();
    }

    /// <summary>"Clicked by mistake?": a fresh confirmation mail, since whoever clicked may hold a forwarded digest.</summary>
    public async Task<IActionResult> OnPostResubscribeAsync(string token, CancellationToken ct)
    {
        if (!await antiforgery.IsRequestValidAsync(HttpContext))
        {
            return BadRequest();
        }

        if (await ResolveAsync(token, TokenPurpose.Unsubscribe, ct) is { } refused)
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
            // As the subscribe form answers past the hourly limit.
            Hosting.TooManyRequests.Answer(Response, until, clock);
        }
        Subscriber = (await subscribers.GetAsync(Subscriber.Id, ct))!;
        return Page();
    }

    private async Task<bool> IsOneClickAsync(CancellationToken ct)
    {
        if (!Request.HasFormContentType)
        {
            return false;
        }

        var form = await Request.ReadFormAsync(ct);
        return string.Equals(form["List-Unsubscribe"], "One-Click", StringComparison.Ordinal);
    }
}
