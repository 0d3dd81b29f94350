namespace Newsletter.Admin.Pages;

public sealed class QuarantineModel(AdminQueries queries) : AdminPageModel
{
    public IReadOnlyList<InboundRow> Messages { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct) => Messages = await queries.InboundAsync("quarantined", 500, ct);
}
