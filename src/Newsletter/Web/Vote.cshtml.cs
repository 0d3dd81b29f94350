using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Newsletter.Relevance;
using Newsletter.Subscribers;

namespace Newsletter.Web;

/// <summary>
/// A digest's "More like this" / "Less like this" link. GET shows the paper and one button and records nothing, so a
/// mail scanner that fetches every link casts no vote; the button's POST records it and offers undo.
/// </summary>
public sealed class VoteModel(DigestLinkKeyStore linkKeys, ReaderVotes votes, SubscriberStore subscribers) : PageModel
{
    public LinkProblem? Problem { get; private set; }

    public VoteTarget Target { get; private set; } = null!;

    /// <summary>Why no digests go to the reader now (unsubscribed, bounced, not confirmed); null while they do.</summary>
    public string? NoDigests { get; private set; }

    /// <summary>What the last POST did: recorded, already so, undone, restored (undone, the vote it replaced back), or
    /// nothing to undo (no vote this way now).</summary>
    public string? Outcome { get; private set; }

    /// <summary>The vote just recorded replaced the reader's vote the other way on this paper: undo brings that one back.</summary>
    public bool Replaced { get; private set; }

    public async Task<IActionResult> OnGetAsync(string token, CancellationToken ct) => await ResolveAsync(token, ct) ?? Page();

    public async Task<IActionResult> OnPostAsync(string token, CancellationToken ct)
    {
        if (await ResolveAsync(token, ct) is { } refused)
        {
            return refused;
        }
        Replaced = Target.CurrentVote == !Target.More;
        Outcome = await votes.RecordAsync(Target, ct) ? "recorded" : "unchanged";
        return Page();
    }

    /// <param name="replaced">The vote being undone replaced one the other way, which comes back.</param>
    public async Task<IActionResult> OnPostUndoAsync(string token, bool replaced, CancellationToken ct)
    {
        if (await ResolveAsync(token, ct) is { } refused)
        {
            return refused;
        }
        Outcome = !await votes.UndoAsync(Target, replaced, ct) ? "nothing to undo" : replaced ? "restored" : "undone";
        return Page();
    }

    /// <summary>How the digest names a vote: "More like this".</summary>
    public static string Label(bool more) => more ? "More like this" : "Less like this";

    private async Task<IActionResult?> ResolveAsync(string token, CancellationToken ct)
    {
        var keys = await linkKeys.GetKeysAsync(ct);
        if (keys.TryVerifyVote(token, out var deliveryId, out var paperId, out var more) &&
            await votes.FindTargetAsync(deliveryId, paperId, more, ct) is { } target)
        {
            Target = target;
            NoDigests = target.GetsDigests ? null : (await subscribers.GetAsync(target.SubscriberId, ct))?.Status switch
            {
                SubscriberStatus.Bounced => $"No digests go to {target.Email}: mail to it bounced.",
                SubscriberStatus.Pending => $"{target.Email} is waiting for confirmation: no digests go to it yet.",
                _ => $"{target.Email} is unsubscribed: no digests go to it.",
            };
            return null;
        }
        Problem = LinkProblem.Unknown;
        Response.StatusCode = StatusCodes.Status404NotFound;
        return Page();
    }
}
