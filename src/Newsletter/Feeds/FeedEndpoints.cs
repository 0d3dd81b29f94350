using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Newsletter.Hosting;
using Newsletter.Papers;

namespace Newsletter.Feeds;

/// <summary>
/// The Atom feeds: a reader's personal one behind a secret address (<c>/feeds/{token}</c>) and a public one per issue
/// (<c>/issues/{id}/feed</c>). Both answer conditional GETs (ETag, Last-Modified) with 304 and are rate-limited per
/// client address like the subscribe form.
/// </summary>
public static class FeedEndpoints
{
    public const string RateLimitPolicy = "feeds";

    private static readonly string[] ReadMethods = [HttpMethods.Get, HttpMethods.Head];

    public static IServiceCollection AddFeeds(this IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<FeedOptions>().BindConfiguration(FeedOptions.Section).ValidateDataAnnotations();
        services.AddSiteLinks();
        services.AddSingleton<FeedStore>();
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.AddPolicy(RateLimitPolicy, context => RateLimitPartition.GetFixedWindowLimiter(
                "feeds:" + ClientAddress.PartitionKey(context),
                _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = context.RequestServices.GetRequiredService<IOptions<FeedOptions>>().Value.RequestsPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
        });
        return services;
    }

    /// <summary>Maps the feeds; the rate limiter itself is in the pipeline already (<c>MapWeb</c>).</summary>
    public static WebApplication MapFeeds(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var feeds = app.MapGroup("").RequireRateLimiting(RateLimitPolicy);
        // HEAD as the pages answer it: a reader or link checker asking for the headers gets them, Kestrel drops the body.
        feeds.MapMethods("/feeds/{token}", ReadMethods, ReaderFeedAsync);
        feeds.MapMethods("/issues/{id:long}/feed", ReadMethods, IssueFeedAsync);
        return app;
    }

    private static async Task<IResult> ReaderFeedAsync(string token, FeedStore store, IOptions<FeedOptions> options,
        IOptions<SiteOptions> site, TimeProvider clock, HttpContext http, CancellationToken ct)
    {
        if (await store.FindAsync(token, ct) is not { } owner)
        {
            return Results.NotFound();
        }
        var settings = options.Value;
        var since = clock.GetUtcNow().AddDays(-settings.Days);
        var entries = await store.ReaderPapersAsync(owner.SubscriberId, since, settings.MaxEntries, ct);
        var changed = await store.ReaderPapersChangedAsync(owner.SubscriberId, since, ct);
        var siteUri = SiteUri(site.Value);
        var header = new FeedHeader(
            AtomFeedWriter.TagUri(siteUri, $"reader/{owner.SubscriberId}"),
            settings.Title,
            $"The papers of your digests of the last {settings.Days} days",
            new Uri(site.Value.Link($"feeds/{token}")),
            siteUri,
            owner.CreatedAt);
        // A personal address: no cache between the reader and us keeps it, and no page it opens learns it.
        Headers(http, "private, no-cache");
        return Document(AtomFeedWriter.Write(header, settings.Title, siteUri, entries, changed));
    }

    private static async Task<IResult> IssueFeedAsync(long id, PaperStore papers, IOptions<FeedOptions> options,
        IOptions<SiteOptions> site, HttpContext http, CancellationToken ct)
    {
        if (await papers.GetIssueAsync(id, ct) is not { } issue)
        {
            return Results.NotFound();
        }
        var settings = options.Value;
        var entries = (await papers.GetIssuePapersAsync(id, ct))
            .Take(settings.MaxEntries)
            .Select(p => new FeedEntry(p, issue.CreatedAt, issue.Id))
            .ToList();
        var siteUri = SiteUri(site.Value);
        var header = new FeedHeader(
            AtomFeedWriter.TagUri(siteUri, $"issue/{issue.Id}"),
            issue.Subject.Length > 0 ? issue.Subject : settings.Title,
            $"{issue.PaperCount} trending papers" + (issue.IssueDate is { } date ? $" of {date:yyyy-MM-dd}" : ""),
            new Uri(site.Value.Link($"issues/{issue.Id}/feed")),
            new Uri(site.Value.Link($"issues/{issue.Id}")),
            issue.CreatedAt);
        Headers(http, "public, no-cache");
        return Document(AtomFeedWriter.Write(header, settings.Title, siteUri, entries));
    }

    // Results.Bytes compares If-None-Match and If-Modified-Since with these validators and answers 304 itself.
    private static IResult Document(FeedDocument feed) =>
        Results.Bytes(feed.Bytes, AtomFeedWriter.ContentType, lastModified: feed.LastModified, entityTag: feed.ETag);

    private static void Headers(HttpContext http, string cacheControl)
    {
        var headers = http.Response.Headers;
        headers.CacheControl = cacheControl;
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
    }

    private static Uri SiteUri(SiteOptions site) => new(site.PublicBaseUrl.TrimEnd('/') + "/");
}
