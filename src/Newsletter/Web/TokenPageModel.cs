using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Newsletter.Subscribers;

namespace Newsletter.Web;

/// <summary>Why a personal link shows no content: never seen (404), too old or already used (410).</summary>
public enum LinkProblem
{
    Unknown,
    Expired,
    Used,
}

/// <summary>A page reached through a personal link. A forged, tampered or expired token gets a clear page, never content.</summary>
public abstract class TokenPageModel(SubscriberTokens tokens) : PageModel
{
    public LinkProblem? Problem { get; private set; }

    protected SubscriberTokens Tokens { get; } = tokens;

    /// <summary>The link's subscriber; set once <see cref="ResolveAsync"/> returned null, and for a link already used.</summary>
    public Subscriber Subscriber { get; protected set; } = null!;

    public long? DeliveryId { get; private set; }

    /// <summary>Null when the token is valid; otherwise the refusal page to return.</summary>
    protected async Task<IActionResult?> ResolveAsync(string token, TokenPurpose purpose, CancellationToken ct)
    {
        return Resolve(await Tokens.FindAsync(token, purpose, ct));
    }

    /// <summary>Null when <paramref name="match"/> is a valid token's; otherwise the refusal page to return.</summary>
    protected IActionResult? Resolve(TokenMatch match)
    {
        ArgumentNullException.ThrowIfNull(match);
        switch (match.State)
        {
            case TokenState.Valid:
                Subscriber = match.Subscriber!;
                DeliveryId = match.DeliveryId;
                return null;
            case TokenState.Expired:
                return Refuse(LinkProblem.Expired);
            case TokenState.Used:
                // Whose it was: a page may say what the link did when it was used.
                Subscriber = match.Subscriber!;
                return Refuse(LinkProblem.Used);
            default:
                return Refuse(LinkProblem.Unknown);
        }
    }

    protected IActionResult Refuse(LinkProblem problem)
    {
        Problem = problem;
        Response.StatusCode = problem == LinkProblem.Unknown ? StatusCodes.Status404NotFound : StatusCodes.Status410Gone;
        return Page();
    }
}
