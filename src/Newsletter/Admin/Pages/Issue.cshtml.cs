using Microsoft.AspNetCore.Mvc;
using Newsletter.Bounces;
using Newsletter.Database;
using Newsletter.Digests;
using Newsletter.Papers;
using Newsletter.Web;

namespace Newsletter.Admin.Pages;

public sealed class IssueModel(AdminQueries queries, PaperStore papers, Resender resender, BounceStore bounces) : AdminPageModel
{
    public IssueRow Issue { get; private set; } = null!;
    public IReadOnlyList<IssuePaper> Papers { get; private set; } = [];
    public IReadOnlyList<DeliveryRow> Deliveries { get; private set; } = [];
    public ListPage DeliveriesPaging { get; private set; } = null!;
    public IReadOnlyList<GenerationProgress> Generations { get; private set; } = [];
    public IReadOnlyList<BounceRow> Bounces { get; private set; } = [];
    public (long Permanent, long Transient) BounceCounts { get; private set; }

    /// <summary>Bounces listed on the page, the latest first; the counts cover all of them.</summary>
    public const int BouncesListed = 500;

    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    /// <summary>The delivery status listed; none when <see cref="Status"/> is empty.</summary>
    public DeliveryStatus? StatusFilter { get; private set; }

    public string? FilterError { get; private set; }

    [BindProperty(SupportsGet = true)]
    public int? Generation { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Email { get; set; }

    [BindProperty(SupportsGet = true)]
    public int? Offset { get; set; }

    public const int DeliveriesPageSize = 500;

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        if (await queries.GetIssueAsync(id, ct) is not { } issue)
        {
            return NotFound();
        }
        Issue = issue;
        Papers = await papers.GetIssuePapersAsync(id, ct);
        Generations = await resender.ProgressAsync(id, null, ct);
        Bounces = await bounces.ForIssueAsync(id, BouncesListed, ct);
        BounceCounts = await bounces.CountForIssueAsync(id, ct);
        // A number binding cannot read is dropped, and the page would list every generation's deliveries as if asked for.
        var unreadNumbers = string.Join(" ", new[]
        {
            UnreadFields.DescribeNumber(ModelState, nameof(Generation), "a generation number"),
            UnreadFields.DescribeNumber(ModelState, nameof(Offset), "a row number"),
        }.OfType<string>());
        var statusRead = DbNames.TryParseOptional<DeliveryStatus>(Status, out var filter);
        if (!statusRead || unreadNumbers.Length > 0)
        {
            // A word that is no status would otherwise list every delivery, as if they all had it.
            FilterError = statusRead ? unreadNumbers : $"{AdminQueries.NotADeliveryStatus(Status)} {unreadNumbers}".TrimEnd();
            DeliveriesPaging = new ListPage(0, DeliveriesPageSize, 0, HasNext: false);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        StatusFilter = filter;
        (Deliveries, DeliveriesPaging) = await ListPage.ReadAsync(Offset, DeliveriesPageSize,
            (limit, offset) => queries.DeliveriesAsync(id, filter, Generation, Email, limit, offset, ct));
        return Page();
    }
}
