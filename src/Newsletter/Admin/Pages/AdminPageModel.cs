using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Newsletter.Admin.Pages;

/// <summary>Every admin page but the login requires the admin cookie; Razor Pages checks antiforgery on every POST.</summary>
[Authorize(Policy = AdminAuthentication.PagesPolicy)]
public abstract class AdminPageModel : PageModel
{
    [Microsoft.AspNetCore.Mvc.TempData]
    public string? Flash { get; set; }

    protected string RequestedBy => "admin:" + AdminAuthentication.RequestedBy(User);

    /// <summary>An empty list page saying the offset is no number, with the answer made a 400; null when it was read.</summary>
    protected ListPage? RefuseUnreadOffset(int size)
    {
        var refused = ListPage.RefuseUnreadOffset(ModelState, size);
        if (refused is not null)
        {
            // Dropped, the list would start at its first row as if the link had been followed.
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }
        return refused;
    }
}
