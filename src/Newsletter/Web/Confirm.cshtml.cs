using Microsoft.AspNetCore.Mvc;
using Newsletter.Subscribers;

namespace Newsletter.Web;

/// <summary>
/// GET shows a button and changes nothing (mail scanners open links); POST activates and opens the manage page. The
/// link works once, and retires the subscriber's other confirmation links: neither a copy of it nor an earlier mail's
/// can undo a later unsubscribe.
/// </summary>
public sealed class ConfirmModel(SubscriberTokens tokens, SubscriberStore subscribers) : TokenPageModel(tokens)
{
    public async Task<IActionResult> OnGetAsync(string token, CancellationToken ct) =>
        await ResolveAsync(token, TokenPurpose.Confirm, ct) ?? Page();

    public async Task<IActionResult> OnPostAsync(string token, CancellationToken ct)
    {
        if (await ResolveAsync(token, TokenPurpose.Confirm, ct) is { } refused)
        {
            return refused;
        }

        if (!await Tokens.UseOnceAsync(token, TokenPurpose.Confirm, ct))
        {
            return Refuse(LinkProblem.Used);
        }

        await Tokens.RetireAsync(Subscriber.Id, TokenPurpose.Confirm, ct);
        await subscribers.ConfirmAsync(Subscriber.Id, ct);
        var manage = await Tokens.MintAsync(Subscriber.Id, TokenPurpose.Manage, null, ct);
        return LocalRedirect($"/manage/{manage}?confirmed=true");
    }
}
