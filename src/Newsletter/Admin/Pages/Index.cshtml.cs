using Newsletter.Inbox;
using Newsletter.Subscribers;

namespace Newsletter.Admin.Pages;

public sealed class IndexModel(AdminQueries queries, SubscriberStore subscribers, InboxTrustWarnings trust) : AdminPageModel
{
    public IReadOnlyList<string> TrustWarnings => trust.Warnings;

    public IReadOnlyList<IssueRow> Issues { get; private set; } = [];
    public IReadOnlyList<InboundRow> Quarantined { get; private set; } = [];
    public IReadOnlyDictionary<SubscriberStatus, long> Subscribers { get; private set; } = new Dictionary<SubscriberStatus, long>();

    public async Task OnGetAsync(CancellationToken ct)
    {
        Issues = await queries.LatestIssuesAsync(20, null, ct);
        Quarantined = await queries.InboundAsync("quarantined", 20, ct);
        Subscribers = await subscribers.CountByStatusAsync(ct);
    }
}
