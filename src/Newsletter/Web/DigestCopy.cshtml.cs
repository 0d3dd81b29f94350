using Microsoft.AspNetCore.Mvc;
using Newsletter.Subscribers;

namespace Newsletter.Web;

/// <summary>The web copy of one delivered digest: every paper it carried, highlighted for its subscriber.</summary>
public sealed class DigestCopyModel(SubscriberTokens tokens, WebCopies copies) : TokenPageModel(tokens)
{
    public WebCopy Copy { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(string token, CancellationToken ct)
    {
        if (await ResolveAsync(token, TokenPurpose.View, ct) is { } refused)
        {
            return refused;
        }

        if (DeliveryId is not { } deliveryId || await copies.LoadDeliveryAsync(deliveryId, Subscriber.Interests, ct) is not { } copy)
        {
            return Refuse(LinkProblem.Unknown);
        }

        Copy = copy;
        return Page();
    }
}
