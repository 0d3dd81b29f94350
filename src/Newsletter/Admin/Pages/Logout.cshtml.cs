using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;

namespace Newsletter.Admin.Pages;

public sealed class LogoutModel : AdminPageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(AdminAuthentication.CookieScheme);
        return Redirect("/admin/login");
    }
}
