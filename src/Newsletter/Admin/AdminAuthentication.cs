using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Threading.RateLimiting;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
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
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AdminCredentials credentials,
    AdminApiTokenThrottle throttle)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private TimeSpan? throttled;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        var client = Hosting.ClientAddress.PartitionKey(Context);
        throttled = throttle.Refusal(client);
        if (throttled is { } wait)
        {
            return Task.FromResult(AuthenticateResult.Fail(
                $"Too many wrong admin API tokens from this client; the token is not checked for another {Math.Ceiling(wait.TotalSeconds)} seconds."));
        }
        if (credentials.CheckApiToken(header["Bearer ".Length..].Trim()))
        {
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(AdminAuthentication.Principal(Scheme.Name, "api"), Scheme.Name)));
        }
        throttle.CountWrongToken(client);
        return Task.FromResult(AuthenticateResult.Fail("The bearer token is not the admin API token."));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var refused = await HandleAuthenticateOnceSafeAsync();
        if (throttled is { } wait)
        {
            Hosting.TooManyRequests.SetRetryAfter(Response, wait);
            await TypedResults.Problem(refused.Failure?.Message, statusCode: StatusCodes.Status429TooManyRequests).ExecuteAsync(Context);
            return;
        }
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
/// Login attempts: per client (an IPv4 address or an IPv6 /64) and, so that rotating addresses buys no more guesses, across
/// all clients; both fixed windows of a minute, answered 429 when spent. A browser the admin has signed in with before
/// carries a device cookie and counts only against its own client's limit, so the admin still gets in while the
/// overall cap refuses everyone else. Kept out of the shared rate-limiter middleware.
/// </summary>
public sealed class AdminLoginThrottle : IDisposable
{
    public const string DeviceCookieName = "newsletter-admin-device";
    private const string DevicePrefix = "admin-device:";
    private static readonly TimeSpan DeviceLifetime = TimeSpan.FromDays(90);
    private readonly PartitionedRateLimiter<string> perClient;
    private readonly FixedWindowRateLimiter allClients;
    private readonly IDataProtector devices;
    private readonly TimeProvider clock;
    private readonly CookieSecurePolicy securePolicy;

    public AdminLoginThrottle(IOptions<AdminOptions> options, IOptions<Hosting.SiteOptions> site, IDataProtectionProvider protection, TimeProvider clock)
    {
        var permits = options.Value.LoginAttemptsPerMinute;
        perClient = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        allClients = new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.LoginAttemptsPerMinuteAllClients, Window = TimeSpan.FromMinutes(1), QueueLimit = 0,
        });
        devices = protection.CreateProtector("Newsletter.Admin.SignInDevice");
        this.clock = clock;
        securePolicy = site.Value.CookieSecurePolicy;
    }

    /// <summary>Takes one attempt for <paramref name="context"/>'s client; null when let through, else how long to wait.</summary>
    public TimeSpan? TryAcquire(HttpContext context)
    {
        using var lease = perClient.AttemptAcquire(Hosting.ClientAddress.PartitionKey(context));
        if (!lease.IsAcquired)
        {
            return RetryAfter(lease);
        }
        if (IsKnownDevice(context))
        {
            return null;
        }
        using var overall = allClients.AttemptAcquire();
        return overall.IsAcquired ? null : RetryAfter(overall);
    }

    /// <summary>After a sign-in: this browser is the admin's, and its next sign-ins skip the overall cap.</summary>
    public void RememberDevice(HttpContext context)
    {
        var expires = clock.GetUtcNow() + DeviceLifetime;
        context.Response.Cookies.Append(DeviceCookieName, devices.Protect(DevicePrefix + expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
            new CookieOptions
            {
                Path = "/admin/login", HttpOnly = true, SameSite = SameSiteMode.Strict, Expires = expires, IsEssential = true,
                Secure = securePolicy == CookieSecurePolicy.Always || context.Request.IsHttps,
            });
    }

    private bool IsKnownDevice(HttpContext context)
    {
        if (context.Request.Cookies[DeviceCookieName] is not { Length: > 0 } cookie)
        {
            return false;
        }
        try
        {
            var payload = devices.Unprotect(cookie);
            return payload.StartsWith(DevicePrefix, StringComparison.Ordinal)
                && long.TryParse(payload.AsSpan(DevicePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
                && DateTimeOffset.FromUnixTimeSeconds(expires) > clock.GetUtcNow();
        }
        catch (CryptographicException)
        {
            return false; // forged, or protected with a key that is gone: an unknown browser
        }
    }

    internal static TimeSpan RetryAfter(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) && wait > TimeSpan.Zero ? wait : TimeSpan.FromMinutes(1);

    public void Dispose()
    {
        perClient.Dispose();
        allClients.Dispose();
    }
}

/// <summary>
/// Wrong <c>/admin/api</c> bearer tokens per client and minute: once spent, the client's token is not even checked
/// (429) until the window turns. Right tokens cost nothing, so a script calling the API is never slowed.
/// </summary>
public sealed class AdminApiTokenThrottle(IOptions<AdminOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> wrongTokens = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.WrongApiTokensPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0,
        }));

    /// <summary>How long <paramref name="client"/> must wait before its token is checked again, or null if it may try now.</summary>
    public TimeSpan? Refusal(string client)
    {
        // Zero permits only asks whether any are left.
        using var lease = wrongTokens.AttemptAcquire(client, 0);
        return lease.IsAcquired ? null : AdminLoginThrottle.RetryAfter(lease);
    }

    public void CountWrongToken(string client)
    {
        using var lease = wrongTokens.AttemptAcquire(client);
    }

    public void Dispose() => wrongTokens.Dispose();
}
