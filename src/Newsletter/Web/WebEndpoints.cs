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
    public static IServiceCollection AddWeb(this IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<WebOptions>().BindConfiguration(WebOptions.Section).ValidateDataAnnotations();
        services.AddSiteLinks();
        services.AddDataProtectionKeys();
        services.AddSingleton<IssuePreview>();
        services.AddSingleton<WebCopies>();

        services.AddRazorPages(options =>
        {
            options.RootDirectory = "/Web";
            options.Conventions.AddPageRoute("/Subscribe", "subscribe");
            options.Conventions.ConfigureFilter(new WebPageHeaders());
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

        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // Only the subscribe form's POST is limited; the Preview button posts to the same page with a handler.
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                IsSubscribePost(context.Request)
                    ? RateLimitPartition.GetFixedWindowLimiter(
                        "subscribe:" + context.Connection.RemoteIpAddress,
                        _ => new FixedWindowRateLimiterOptions
                        {
                            PermitLimit = context.RequestServices.GetRequiredService<IOptions<WebOptions>>().Value.SubscribePermitsPerMinute,
                            Window = TimeSpan.FromMinutes(1),
                            QueueLimit = 0,
                        })
                    : RateLimitPartition.GetNoLimiter(""));
        });
        return services;
    }

    public static WebApplication MapWeb(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/status/500");
        }

        app.UseStatusCodePagesWithReExecute("/status/{0}");
        var webRoot = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (Directory.Exists(webRoot))
        {
            app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(webRoot) });
        }

        app.UseRateLimiter();
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
        });
        return app;
    }

    private static bool IsSubscribePost(HttpRequest request) =>
        HttpMethods.IsPost(request.Method)
        && !request.Query.ContainsKey("handler")
        && (request.Path == "/" || request.Path.Equals("/subscribe", StringComparison.OrdinalIgnoreCase)
            || request.Path.Equals("/subscribe/", StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// Headers for every page: personal links carry tokens, so no referrer leaves the site and nothing is cached; only
/// same-origin styles and scripts run.
/// </summary>
internal sealed class WebPageHeaders : IResultFilter
{
    public void OnResultExecuting(ResultExecutingContext context)
    {
        var headers = context.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy =
            "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        // The same value antiforgery writes on pages with a form, so it has nothing to override (and no warning to log
        // on every request).
        headers.CacheControl = "no-cache, no-store";
        headers.Pragma = "no-cache";
    }

    public void OnResultExecuted(ResultExecutedContext context)
    {
    }
}
