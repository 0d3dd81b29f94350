using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;

namespace Newsletter.Admin.Pages;

/// <summary>Signing out ends every admin session, including copies of this cookie (<see cref="AdminSessions"/>).</summary>
public sealed class LogoutModel(AdminSessions sessions) : AdminPageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        await sessions.EndAllAsync(ct);
        await HttpContext.SignOutAsync(AdminAuthentication.CookieScheme);
        return Redirect("/admin/login");
    }
}
