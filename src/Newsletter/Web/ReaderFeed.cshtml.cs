using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Newsletter.Feeds;
using Newsletter.Hosting;
using Newsletter.Subscribers;

namespace Newsletter.Web;

/// <summary>
/// The personal feed of the subscriber of a manage link: make its secret address, make a new one (the old stops), or
/// turn it off. Only a hash of the address is kept, so it is shown once, right after it is made.
/// </summary>
public sealed class ReaderFeedModel(SubscriberTokens tokens, FeedStore feeds, IOptions<SiteOptions> site, IOptions<FeedOptions> options)
    : TokenPageModel(tokens)
{
    public int Days => options.Value.Days;

    public DateTimeOffset? Since { get; private set; }

    /// <summary>The address just made; null on every later visit.</summary>
    public string? NewAddress { get; private set; }

    public string? Notice { get; private set; }

    public string ManagePath(string token) => $"/manage/{Uri.EscapeDataString(token)}";

    public async Task<IActionResult> OnGetAsync(string token, CancellationToken ct)
    {
        if (await ResolveAsync(token, TokenPurpose.Manage, ct) is { } refused)
        {
            return refused;
        }
        Since = await feeds.CreatedAtAsync(Subscriber.Id, ct);
        return Page();
    }

    /// <summary>The address the page was shown with, as the form sends it back: its <see cref="Since"/> in UTC ticks, 0 for none.</summary>
    public long Shown => Since?.UtcTicks ?? 0;

    /// <summary>A new address; any previous one stops working.</summary>
    /// <param name="shown">The page's <see cref="Shown"/>: when it is no longer the current address's, the form was sent
    /// again (a reload of the answer, or back and press) after it made one, which the reader may have copied already.</param>
    public async Task<IActionResult> OnPostNewAsync(string token, long? shown, CancellationToken ct)
    {
        if (await ResolveAsync(token, TokenPurpose.Manage, ct) is { } refused)
        {
            return refused;
        }
        Since = await feeds.CreatedAtAsync(Subscriber.Id, ct);
        if (shown is { } expected && expected != Shown)
        {
            Notice = "Not replaced: this form was sent again after it had made your feed address, and that address still works. To replace it anyway, press the button below.";
            return Page();
        }
        var feedToken = await feeds.ReplaceAsync(Subscriber.Id, ct);
        NewAddress = site.Value.Link($"feeds/{feedToken}");
        Since = await feeds.CreatedAtAsync(Subscriber.Id, ct);
        Notice = "Your feed address is below. Copy it into your feed reader now: for your privacy it is not shown again.";
        return Page();
    }

    public async Task<IActionResult> OnPostOffAsync(string token, CancellationToken ct)
    {
        if (await ResolveAsync(token, TokenPurpose.Manage, ct) is { } refused)
        {
            return refused;
        }
        await feeds.RevokeAsync(Subscriber.Id, ct);
        Notice = "Your feed is turned off; its address no longer works.";
        return Page();
    }
}
