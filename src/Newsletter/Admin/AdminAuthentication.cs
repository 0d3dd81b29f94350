using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Threading.RateLimiting;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Newsletter.Admin;

/// <summary>The admin's two ways in: a cookie for the pages and the dashboard, a bearer token for the API.</summary>
public static class AdminAuthentication
{
    public const string CookieScheme = "NewsletterAdmin";
    public const string ApiScheme = "NewsletterAdminApi";
    public const string PagesPolicy = "NewsletterAdminPages";
    public const string ApiPolicy = "NewsletterAdminApi";
    public const string CookieName = "newsletter-admin";

    public static ClaimsPrincipal Principal(string scheme, string name) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, "admin")], scheme));

    /// <summary>The principal of a cookie sign-in: the admin, in the session <paramref name="sessionId"/>.</summary>
    public static ClaimsPrincipal SessionPrincipal(Guid sessionId) =>
        new(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.Name, "admin"), new Claim(ClaimTypes.Role, "admin"),
                new Claim(AdminSessions.SessionClaim, sessionId.ToString("D")),
            ], CookieScheme));

    /// <summary>Who asked, for the ledger's requested_by: "admin" for the pages, "api" for the token.</summary>
    public static string RequestedBy(ClaimsPrincipal user) => user.Identity?.Name ?? "admin";
}

/// <summary><c>Authorization: Bearer {Newsletter:Admin:ApiToken}</c>, compared in constant time.</summary>
internal sealed class AdminApiTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AdminCredentials credentials)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        return Task.FromResult(credentials.CheckApiToken(header["Bearer ".Length..].Trim())
            ? AuthenticateResult.Success(new AuthenticationTicket(AdminAuthentication.Principal(Scheme.Name, "api"), Scheme.Name))
            : AuthenticateResult.Fail("The bearer token is not the admin API token."));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var refused = await HandleAuthenticateOnceSafeAsync();
        Response.Headers.WWWAuthenticate = "Bearer realm=\"newsletter-admin\"";
        // Written here: authorization runs before the API's own error answers (AdminApiProblems) in the pipeline.
        await TypedResults.Problem(refused.Failure?.Message ?? $"The admin API needs the header Authorization: Bearer <{AdminOptions.Section}:ApiToken>.",
            statusCode: StatusCodes.Status401Unauthorized).ExecuteAsync(Context);
    }
}

/// <summary>The Hangfire dashboard is for a signed-in admin: it reads the admin cookie, not the default scheme.</summary>
internal sealed class AdminDashboardAuthorization : IDashboardAsyncAuthorizationFilter
{
    public async Task<bool> AuthorizeAsync(DashboardContext context)
    {
        var result = await context.GetHttpContext().AuthenticateAsync(AdminAuthentication.CookieScheme);
        return result.Succeeded && result.Principal.IsInRole("admin");
    }
}

/// <summary>
/// Login attempts per client (an IPv4 address or an IPv6 /64): a fixed window, answered 429 when spent. Kept out of the
/// shared rate-limiter middleware.
/// </summary>
public sealed class AdminLoginThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> limiter;

    public AdminLoginThrottle(IOptions<AdminOptions> options)
    {
        var permits = options.Value.LoginAttemptsPerMinute;
        limiter = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
    }

    public bool TryAcquire(HttpContext context)
    {
        using var lease = limiter.AttemptAcquire(Hosting.ClientAddress.PartitionKey(context));
        return lease.IsAcquired;
    }

    public void Dispose() => limiter.Dispose();
}
