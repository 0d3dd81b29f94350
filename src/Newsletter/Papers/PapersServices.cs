namespace Newsletter.Papers;

/// <summary>Issues and papers: <see cref="PaperStore"/> is their one owner.</summary>
public static class PapersServices
{
    public static IServiceCollection AddPapers(this IServiceCollection services)
    {
        services.AddSingleton<PaperStore>();
        return services;
    }
}
