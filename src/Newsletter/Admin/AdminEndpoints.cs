namespace Newsletter.Admin;

/// <summary>The protected admin area, its JSON API and the Hangfire dashboard.</summary>
public static class AdminEndpoints
{
    public static IServiceCollection AddNewsletterAdmin(this IServiceCollection services, IConfiguration configuration) => services;

    public static WebApplication MapNewsletterAdmin(this WebApplication app) => app;
}
