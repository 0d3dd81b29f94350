using Microsoft.AspNetCore.Mvc;
using Newsletter.Digests;
using Newsletter.Web;

namespace Newsletter.Admin.Pages;

public sealed class ResendModel(AdminQueries queries, Resender resender, TimeProvider clock) : AdminPageModel
{
    /// <summary>The shown generation waits for a fan-out that should have run long ago.</summary>
    public bool FanOutStalled { get; private set; }

    public DateTimeOffset Now => clock.GetUtcNow();

    public IssueRow Issue { get; private set; } = null!;
    public ResendPreview? Preview { get; private set; }
    public GenerationProgress? Progress { get; private set; }
    public string? Error { get; private set; }

    /// <summary>The scope as the form sent it, read by the API's rule: never the scopes the inbox and the weekly run write.</summary>
    [BindProperty(SupportsGet = true, Name = "scope")]
    public string? ScopeText { get; set; }

    public GenerationScope Scope { get; private set; } = GenerationScope.One;

    [BindProperty(SupportsGet = true)]
    public string? Email { get; set; }

    public async Task<IActionResult> OnGetAsync(long id, int? generation, string? preview, CancellationToken ct)
    {
        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }
        if (!TryReadScope())
        {
            return Page();
        }
        // Dropped, it would show the re-send form instead of the generation asked for.
        if (UnreadFields.DescribeNumber(ModelState, nameof(generation), "a generation number") is { } unread)
        {
            Error = unread;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        if (generation is { } g)
        {
            Progress = await resender.ProgressAsync(id, g, ct) is [var one] ? one : null;
            FanOutStalled = Progress is not null && resender.FanOutStalled(Progress);
            return Progress is null ? NotFound() : Page();
        }
        if (preview is not null)
        {
            try
            {
                Preview = await resender.PreviewAsync(id, Scope, Email, ct);
            }
            catch (ResendRefusedException ex)
            {
                Refused(ex);
            }
        }
        return Page();
    }

    /// <summary>The admin's "start the fan-out again", for a generation whose job is gone.</summary>
    public async Task<IActionResult> OnPostFanOutAsync(long id, int? generation, CancellationToken ct)
    {
        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }
        // Only a hand-made request lacks the form's number; read as 0 it would have been "no fan-out left to start".
        var unread = UnreadFields.DescribeNumber(ModelState, nameof(generation), "a generation number")
            ?? (generation is null ? "generation: missing; it is the re-send's number." : null);
        if (unread is not null || generation is not { } number)
        {
            Error = unread;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        Flash = await resender.RequeueFanOutAsync(id, number, ct)
            ? $"The fan-out of generation {number} is queued again."
            : $"Generation {number} has no fan-out left to start.";
        return Redirect($"/admin/issues/{id}/resend?generation={number}");
    }

    public async Task<IActionResult> OnPostAsync(long id, CancellationToken ct)
    {
        if (!await LoadAsync(id, ct))
        {
            return NotFound();
        }
        if (!TryReadScope())
        {
            return Page();
        }
        try
        {
            var requested = await resender.RequestAsync(id, Scope, Email, RequestedBy, ct);
            return Redirect($"/admin/issues/{id}/resend?generation={requested.Generation}");
        }
        catch (ResendRefusedException ex)
        {
            Refused(ex);
            return Page();
        }
    }

    /// <summary>The page says why; its status tells a script "try again later" (409) from bad input (400), as the API's does.</summary>
    private void Refused(ResendRefusedException refusal)
    {
        Error = refusal.Message;
        Response.StatusCode = refusal.TryLater ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest;
    }

    private bool TryReadScope()
    {
        // No scope sent: the form's first choice, one subscriber.
        if (ScopeText is null)
        {
            return true;
        }
        if (Resender.TryParseScope(ScopeText, out var scope))
        {
            Scope = scope;
            return true;
        }
        Error = Resender.ScopeRefusal(ScopeText);
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return false;
    }

    private async Task<bool> LoadAsync(long id, CancellationToken ct)
    {
        Issue = (await queries.GetIssueAsync(id, ct))!;
        return Issue is not null;
    }
}
