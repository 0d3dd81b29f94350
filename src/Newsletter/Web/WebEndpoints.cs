namespace Newsletter.Web;

/// <summary>The public, link-driven pages subscribers use.</summary>
public static class WebEndpoints
{
    public static IServiceCollection AddNewsletterWeb(this IServiceCollection services, IConfiguration configuration) => services;

    public static WebApplication MapNewsletterWeb(this WebApplication app) => app;
}
