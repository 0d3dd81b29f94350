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
}
