using Microsoft.AspNetCore.Mvc;
using Newsletter.Inbox;
using Newsletter.Subscribers;

namespace Newsletter.Admin.Pages;

public sealed class IndexModel(AdminQueries queries, SubscriberStore subscribers, InboxTrustWarnings trust) : AdminPageModel
{
    public IReadOnlyList<string> TrustWarnings => trust.Warnings;

    public const int IssuesPageSize = 20;

    [BindProperty(SupportsGet = true)]
    public int? Offset { get; set; }

    public IReadOnlyList<IssueRow> Issues { get; private set; } = [];
    public ListPage IssuesPaging { get; private set; } = null!;
    public IReadOnlyList<InboundRow> SetAside { get; private set; } = [];
    public IReadOnlyDictionary<SubscriberStatus, long> Subscribers { get; private set; } = new Dictionary<SubscriberStatus, long>();

    public async Task OnGetAsync(CancellationToken ct)
    {
        if (RefuseUnreadOffset(IssuesPageSize) is { } refused)
        {
            IssuesPaging = refused;
        }
        else
        {
            (Issues, IssuesPaging) = await ListPage.ReadAsync(Offset, IssuesPageSize, (limit, offset) => queries.LatestIssuesAsync(limit, offset, null, ct));
        }
        SetAside = await queries.SetAsideAsync(20, ct);
        Subscribers = await subscribers.CountByStatusAsync(ct);
    }
}
