using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Newsletter.Admin.Pages;

[AllowAnonymous]
public sealed class LoginModel(AdminCredentials credentials, AdminLoginThrottle throttle, AdminSessions sessions) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Error { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(string? password, CancellationToken ct)
    {
        if (throttle.TryAcquire(HttpContext) is { } wait)
        {
            Hosting.TooManyRequests.SetRetryAfter(Response, wait);
            return StatusCode(StatusCodes.Status429TooManyRequests);
        }
        if (!credentials.CheckPassword(password))
        {
            Error = "That is not the admin password.";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        throttle.RememberDevice(HttpContext);
        var (session, expiresAt) = await sessions.StartAsync(ct);
        await HttpContext.SignInAsync(AdminAuthentication.CookieScheme, AdminAuthentication.SessionPrincipal(session),
            new AuthenticationProperties { ExpiresUtc = expiresAt });
        return LocalRedirect(ReturnUrl is { } url && Url.IsLocalUrl(url) && url.StartsWith("/admin", StringComparison.Ordinal) ? url : "/admin");
    }
}
