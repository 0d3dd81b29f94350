using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Newsletter.Web;

/// <summary>The public web copy of an issue: every paper, in the listing's order.</summary>
public sealed class IssueModel(WebCopies copies) : PageModel
{
    public WebCopy Copy { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        if (await copies.LoadIssueAsync(id, ct) is not { } copy)
        {
            return NotFound();
        }

        Copy = copy;
        return Page();
    }
}
