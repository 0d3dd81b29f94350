using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Newsletter.Hosting;
using Newsletter.Subscribers;

namespace Newsletter.Web;

/// <summary>The public, link-driven pages subscribers use.</summary>
public static class WebEndpoints
{
    /// <summary>The rate-limiting policy of the subscribe page's POSTs.</summary>
    public const string SubscribePolicy = "subscribe";

    public const string PreviewPolicy = "preview";

    /// <summary>The rate-limiting policy of the manage page's POSTs: a save or a preview reads a new line for meaning, as a
    /// preview does, so they count against the preview's allowance per client.</summary>
    public const string ManagePolicy = "manage";

    public static IServiceCollection AddWeb(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptionsWithValidateOnStart<WebOptions>().BindConfiguration(WebOptions.Section).ValidateDataAnnotations();
        services.AddSiteLinks();
        services.AddSiteCookies();
        services.AddDataProtectionKeys(configuration);
        services.AddSingleton<IssuePreview>();
        services.AddSingleton<ManagePageQuery>();
        services.AddSingleton<WebCopies>();
        services.AddSingleton<SubscriptionRequests>();

        services.AddRazorPages(options =>
        {
            options.RootDirectory = "/Web";
            options.Conventions.AddPageRoute("/Subscribe", "subscribe");
            options.Conventions.ConfigureFilter(new WebPageHeaders());
            options.Conventions.ConfigureFilter(new UnhandledRequestRefusal());
        }).ConfigureApplicationPartManager(manager =>
        {
            // MVC looks for pages in the entry assembly, which is not this one when tests host the application.
            var assembly = typeof(WebEndpoints).Assembly;
            if (!manager.ApplicationParts.OfType<AssemblyPart>().Any(part => part.Assembly == assembly))
            {
                foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
                {
                    manager.ApplicationParts.Add(part);
                }
            }
        });

        // Limits belong to endpoints, not to paths or query strings: the subscribe page's every POST (Razor Pages runs the
        // default handler for a ?handler= it does not know), and the preview.
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // Every limit here is per minute: a feed reader or a script learns when its next request will be let through.
            options.OnRejected = (context, _) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    TooManyRequests.SetRetryAfter(context.HttpContext.Response, retryAfter);
                }
                return ValueTask.CompletedTask;
            };
            options.AddPolicy(SubscribePolicy, context => HttpMethods.IsPost(context.Request.Method)
                ? PerClientAndMinute(context, o => o.SubscribePermitsPerMinute)
                : RateLimitPartition.GetNoLimiter(""));
            options.AddPolicy(PreviewPolicy, context => PerClientAndMinute(context, o => o.PreviewPermitsPerMinute));
            options.AddPolicy(ManagePolicy, context => HttpMethods.IsPost(context.Request.Method)
                ? PerClientAndMinute(context, o => o.PreviewPermitsPerMinute)
                : RateLimitPartition.GetNoLimiter(""));
        });
        return services;
    }

    public static WebApplication MapWeb(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.Services.GetRequiredService<IOptions<SiteOptions>>().Value.IsHttps)
        {
            // The site's address is https and TLS ends at the proxy: every request is answered as the https request it
            // was, so the Secure cookies are set (antiforgery refuses to set them on a plain http request) and HSTS sent.
            app.Use((context, next) =>
            {
                context.Request.Scheme = Uri.UriSchemeHttps;
                return next(context);
            });
        }
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/status/500");
            // Sent only on https requests, never for localhost.
            app.UseHsts();
        }

        app.UseStatusCodePagesWithReExecute("/status/{0}");
        var webRoot = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (Directory.Exists(webRoot))
        {
            app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(webRoot) });
        }

        app.UseRateLimiter();
        app.UsePublicPageForms();
        app.MapRazorPages();
        app.MapGet("/preview", async (string? interests, IssuePreview preview, CancellationToken ct) =>
        {
            var result = await preview.PreviewAsync(interests, ct);
            return Results.Json(new
            {
                summary = result.Summary,
                error = result.Error?.Message,
                matched = result.Matched,
                papers = result.Papers.Select(p => new { title = p.Title, url = p.Url }),
                suggestions = result.Suggestions.Select(p => new { title = p.Title, url = p.Url }),
            });
        }).RequireRateLimiting(PreviewPolicy);
        return app;
    }

    private static RateLimitPartition<string> PerClientAndMinute(HttpContext context, Func<WebOptions, int> permits) =>
        RateLimitPartition.GetFixedWindowLimiter(ClientAddress.PartitionKey(context), _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits(context.RequestServices.GetRequiredService<IOptions<WebOptions>>().Value),
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        });
}

/// <summary>
/// Headers for every page: personal links carry tokens, so no referrer leaves the site and nothing is cached; only
/// same-origin styles and scripts run. The admin's minimal endpoints (exports, the API) get them as a group filter.
/// </summary>
internal sealed class WebPageHeaders : IResultFilter
{
    public void OnResultExecuting(ResultExecutingContext context) => Write(context.HttpContext.Response.Headers);

    public void OnResultExecuted(ResultExecutedContext context)
    {
    }

    public static async ValueTask<object?> OnEndpointAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        Write(context.HttpContext.Response.Headers);
        return await next(context);
    }

    private static void Write(IHeaderDictionary headers)
    {
        headers.ContentSecurityPolicy =
            "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        // The same value antiforgery writes on pages with a form, so it has nothing to override (and no warning to log
        // on every request).
        headers.CacheControl = "no-cache, no-store";
        headers.Pragma = "no-cache";
    }
}
