using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Newsletter.Hosting;

/// <summary>The cookies every page may set (antiforgery, TempData) follow <see cref="SiteOptions.CookieSecurePolicy"/>.</summary>
public static class SiteCookies
{
    public static IServiceCollection AddSiteCookies(this IServiceCollection services)
    {
        services.AddSiteLinks();
        services.AddOptions<AntiforgeryOptions>()
            .Configure<IOptions<SiteOptions>>((antiforgery, site) => antiforgery.Cookie.SecurePolicy = site.Value.CookieSecurePolicy);
        services.AddOptions<CookieTempDataProviderOptions>()
            .Configure<IOptions<SiteOptions>>((tempData, site) => tempData.Cookie.SecurePolicy = site.Value.CookieSecurePolicy);
        return services;
    }
}
