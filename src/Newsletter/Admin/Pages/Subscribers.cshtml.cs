using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Newsletter.Database;
using Newsletter.Subscribers;
using Newsletter.Web;

namespace Newsletter.Admin.Pages;

[ImportSizeLimit]
public sealed class SubscribersModel(SubscriberStore store, SubscriberCsv csv, IOptions<AdminOptions> options) : AdminPageModel
{
    /// <summary>Set by <see cref="ImportSizeLimitAttribute"/> when the file was over the limit.</summary>
    [TempData(Key = ImportSizeLimitAttribute.RefusalKey)]
    public string? ImportRefusal { get; set; }

    public int MaxImportMegabytes => options.Value.MaxImportMegabytes;

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    /// <summary>The status searched for; none when <see cref="Status"/> is empty.</summary>
    public SubscriberStatus? StatusFilter { get; private set; }

    public string? SearchError { get; private set; }

    [BindProperty(SupportsGet = true)]
    public int? Offset { get; set; }

    public const int PageSize = 200;

    public IReadOnlyList<Subscriber> Found { get; private set; } = [];
    public ListPage Paging { get; private set; } = null!;
    public string? NewEmail { get; private set; }
    public string? NewInterests { get; private set; }
    public DigestFormat NewFormat { get; private set; } = DigestFormat.Html;
    public string? AddError { get; private set; }
    public string? ImportError { get; private set; }
    public CsvImportResult? Imported { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (!DbNames.TryParseOptional<SubscriberStatus>(Status, out var filter))
        {
            // A word that is no status would otherwise list everyone (or, as a number or a list, another status).
            SearchError = $"'{Status}' is not a status: {string.Join(", ", Enum.GetValues<SubscriberStatus>().Select(SubscriberStore.ToDb))}.";
            Paging = new ListPage(0, PageSize, 0, HasNext: false);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        StatusFilter = filter;
        if (RefuseUnreadOffset(PageSize) is { } refused)
        {
            Paging = refused;
            return Page();
        }
        (Found, Paging) = await ListPage.ReadAsync(Offset, PageSize, (limit, offset) => store.SearchAsync(Q, filter, limit, offset, ct));
        return Page();
    }

    public async Task<IActionResult> OnPostAddAsync(string? email, string? interests, DigestFormat format, CancellationToken ct)
    {
        if (UnreadFields.Describe(ModelState) is { } unread)
        {
            AddError = unread;
            (NewEmail, NewInterests) = (email, interests);
            await OnGetAsync(ct);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        try
        {
            var (subscriber, created) = await store.AddVouchedAsync(email ?? "", interests, format, ct);
            Flash = created ? $"{subscriber.Email} added." : $"{subscriber.Email} was already there: updated. {SubscriberStore.KeptStatusNote(subscriber.Status)}".TrimEnd();
            return Redirect($"/admin/subscribers/{subscriber.Id}");
        }
        catch (InterestSyntaxException ex)
        {
            AddError = $"Interests: {ex.Message}";
        }
        catch (ArgumentException ex)
        {
            AddError = ex.Message;
        }
        // The form again with every field as the admin typed it; nothing was saved.
        (NewEmail, NewInterests, NewFormat) = (email, interests, format);
        await OnGetAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostImportAsync(IFormFile? file, CancellationToken ct)
    {
        if (file is null || file.Length == 0)
        {
            ImportError = "Choose a CSV file.";
        }
        else
        {
            await using var stream = file.OpenReadStream();
            using var reader = new StreamReader(stream, SubscriberCsv.Utf8, detectEncodingFromByteOrderMarks: true);
            try
            {
                Imported = await csv.ImportAsync(reader, ct);
            }
            catch (CsvImportException ex)
            {
                ImportError = ex.Message;
            }
        }
        await OnGetAsync(ct);
        return Page();
    }
}
