using Hangfire;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc.ApplicationModels;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MimeKit;
using Microsoft.Extensions.Options;
using Newsletter.Digests;
using Newsletter.Hosting;
using Newsletter.Papers;
using Newsletter.Subscribers;
using Newsletter.Database;
using Newsletter.Web;

namespace Newsletter.Admin;

/// <summary>The protected admin area, its JSON API and the Hangfire dashboard.</summary>
public static class AdminEndpoints
{
    public static IServiceCollection AddAdmin(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptionsWithValidateOnStart<AdminOptions>().BindConfiguration(AdminOptions.Section);
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<AdminOptions>, AdminOptionsValidator>();
        services.AddSingleton<AdminCredentials>();
        services.AddSingleton<AdminSessions>();
        services.AddSiteLinks();
        services.AddHostedService<AdminPasswordAnnouncement>();
        services.AddSingleton<AdminLoginThrottle>();
        services.AddSingleton<AdminApiTokenThrottle>();
        services.AddSingleton<AdminQueries>();
        services.AddSingleton<AdminDigestView>();
        services.AddSingleton<AdminPersonalData>();
        services.AddProblemDetails();
        // A request a minimal endpoint cannot read throws, as in Development, so the API's answer says what was wrong.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

        services.AddAuthentication()
            .AddCookie(AdminAuthentication.CookieScheme, cookie =>
            {
                cookie.Cookie.Name = AdminAuthentication.CookieName;
                cookie.Cookie.Path = "/admin";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.LoginPath = "/admin/login";
                cookie.LogoutPath = "/admin/logout";
                cookie.AccessDeniedPath = "/admin/login";
                // An absolute lifetime: the sign-in sets the expiry (AdminSessions), and use does not extend it.
                cookie.SlidingExpiration = false;
                cookie.Events.OnValidatePrincipal = AdminSessions.ValidateAsync;
            })
            .AddScheme<AuthenticationSchemeOptions, AdminApiTokenHandler>(AdminAuthentication.ApiScheme, null);
        services.AddOptions<CookieAuthenticationOptions>(AdminAuthentication.CookieScheme)
            .Configure<IOptions<AdminOptions>, IOptions<SiteOptions>, TimeProvider>((cookie, admin, site, clock) =>
            {
                cookie.ExpireTimeSpan = admin.Value.SessionLifetime;
                cookie.Cookie.SecurePolicy = site.Value.CookieSecurePolicy;
                cookie.TimeProvider = clock;
            });
        services.AddAuthorizationBuilder()
            .AddPolicy(AdminAuthentication.PagesPolicy, policy => policy
                .AddAuthenticationSchemes(AdminAuthentication.CookieScheme).RequireAuthenticatedUser().RequireRole("admin"))
            .AddPolicy(AdminAuthentication.ApiPolicy, policy => policy
                .AddAuthenticationSchemes(AdminAuthentication.ApiScheme).RequireAuthenticatedUser().RequireRole("admin"));

        // Razor Pages with no RootDirectory of our own: the provider finds /Admin/Pages/* by their explicit routes.
        // The host's entry assembly is not this one under a test runner: make sure our compiled pages are a part.
        services.AddRazorPages().ConfigureApplicationPartManager(manager =>
        {
            var assembly = typeof(AdminEndpoints).Assembly;
            foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
            {
                if (!manager.ApplicationParts.Any(p => p.GetType() == part.GetType() && p.Name == part.Name))
                {
                    manager.ApplicationParts.Add(part);
                }
            }
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPageRouteModelProvider, AdminPageRouteModelProvider>());
        return services;
    }

    public static WebApplication MapAdmin(this WebApplication app)
    {
        app.MapRazorPages();
        app.UseHangfireDashboard("/admin/jobs", new DashboardOptions
        {
            AppPath = "/admin",
            DashboardTitle = "Newsletter jobs",
            Authorization = [], // the default lets any local request in; only the admin cookie does here
            AsyncAuthorization = [new AdminDashboardAuthorization()],
            IgnoreAntiforgeryToken = false, // the dashboard's buttons post ASP.NET Core antiforgery tokens
        });

        var pages = app.MapGroup("/admin").RequireAuthorization(AdminAuthentication.PagesPolicy).AddEndpointFilter(WebPageHeaders.OnEndpointAsync);
        pages.MapGet("/deliveries/{id:long}/digest", async (long id, string? part, AdminDigestView view, CancellationToken ct) =>
        {
            if (await view.RenderAsync(id, ct) is not { } rendered)
            {
                return Results.NotFound();
            }
            var (digest, note) = rendered;
            return part == "text" || digest.HtmlBody is null
                ? Results.Text($"[{note}]\n\n{digest.TextBody}", "text/plain; charset=utf-8")
                : Results.Content(AdminDigestView.WithNote(digest.HtmlBody, note), "text/html; charset=utf-8");
        }).AddEndpointFilter(async (context, next) =>
        {
            // The digest is our own HTML, but it is shown under the admin origin: no scripts, nothing loaded (over the group's policy).
            context.HttpContext.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox";
            return await next(context);
        });
        pages.MapGet("/subscribers/export.csv", async (string? status, SubscriberCsv csv, HttpContext http, CancellationToken ct) =>
        {
            if (!DbNames.TryParseOptional<SubscriberStatus>(status, out var filter))
            {
                return AdminApi.UnknownStatus(status);
            }
            http.Response.ContentType = "text/csv; charset=utf-8";
            http.Response.Headers.ContentDisposition = "attachment; filename=\"subscribers.csv\"";
            await using var writer = new StreamWriter(http.Response.Body, SubscriberCsv.Utf8, leaveOpen: true);
            await csv.ExportAsync(writer, filter, ct);
            return Results.Empty;
        });
        pages.MapGet("/subscribers/{id:long}/export.json", async (long id, AdminPersonalData data, CancellationToken ct) =>
            await data.ExportAsync(id, ct) is { } export
                ? Results.Json(export, contentType: "application/json; charset=utf-8", statusCode: 200)
                : Results.NotFound());

        app.UseAdminApiProblems();
        app.MapAdminApi();
        return app;
    }
}

/// <summary>
/// Renders one delivery's digest as composed for its subscriber, with placeholder links: no tokens are minted. The
/// ledger keeps the papers, not the format and line the digest went out with: it is rendered with today's, and says so.
/// </summary>
public sealed class AdminDigestView(AdminQueries queries, PaperStore papers, DeliveryGenerations generations, DigestBuilder builder)
{
    /// <summary>The digest, and the note that says what it was rendered with; null for no such delivery.</summary>
    public async Task<(MimeMessage Digest, string Note)?> RenderAsync(long deliveryId, CancellationToken ct)
    {
        var delivery = await queries.GetDeliveryAsync(deliveryId, ct);
        if (delivery is null)
        {
            return null;
        }
        var generation = await generations.GetAsync(delivery.IssueId, delivery.Generation, ct);
        var content = await IssueContent.LoadAsync(papers, delivery.IssueId, generation?.IssueIds, ct);
        var placeholder = new DeliveryTokens("admin-preview", "admin-preview", "admin-preview");
        var digest = await builder.BuildAsync(content, new DigestRecipient(delivery.SubscriberId, delivery.Email, delivery.Interests, delivery.Generation,
            delivery.PaperIds, placeholder, delivery.Format == DbNames.ToDb(DigestFormat.Text)) { WeekOf = delivery.WeekOf, Relevance = delivery.Relevance }, ct);
        var note = $"Admin view: the papers this digest was sent with, rendered today with the current format ({delivery.Format}) and "
            + $"keyword line ({(delivery.Interests.Length == 0 ? "empty" : $"\u00ab{delivery.Interests}\u00bb")}) of this reader; the digest sent may have had others."
            + (delivery.LineChangedSince ? " Note: their keyword line changed after this digest was sent." : "");
        return (digest, note);
    }

    /// <summary><paramref name="html"/> with <paramref name="note"/> shown above the digest.</summary>
    public static string WithNote(string html, string note)
    {
        var banner = $"<p style=\"background:#fff3cd;border:1px solid #c9a227;padding:6px;font:14px sans-serif\">{System.Net.WebUtility.HtmlEncode(note)}</p>";
        var body = html.IndexOf("<body", StringComparison.OrdinalIgnoreCase);
        var end = body < 0 ? -1 : html.IndexOf('>', body);
        return end < 0 ? banner + html : html.Insert(end + 1, banner);
    }
}

/// <summary>Logs the made-up Development password once the server starts, so it is the last thing an operator sees.</summary>
internal sealed class AdminPasswordAnnouncement(AdminCredentials credentials) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = credentials.GeneratedPassword; // resolving the credentials logs it
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
