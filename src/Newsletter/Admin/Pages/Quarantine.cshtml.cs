using Microsoft.AspNetCore.Mvc;

namespace Newsletter.Admin.Pages;

public sealed class QuarantineModel(AdminQueries queries) : AdminPageModel
{
    public const int PageSize = 500;

    [BindProperty(SupportsGet = true)]
    public int? Offset { get; set; }

    public IReadOnlyList<InboundRow> Messages { get; private set; } = [];
    public ListPage Paging { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken ct)
    {
        if (RefuseUnreadOffset(PageSize) is { } refused)
        {
            Paging = refused;
            return;
        }
        (Messages, Paging) = await ListPage.ReadAsync(Offset, PageSize, (limit, offset) => queries.InboundAsync("quarantined", limit, offset, ct));
    }
}
