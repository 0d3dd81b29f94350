namespace Newsletter.Relevance;

/// <summary>Learning per reader: votes from digests, paper and keyword-line meanings, and the ranking they drive.</summary>
public static class RelevanceServices
{
    public static IServiceCollection AddRelevance(this IServiceCollection services)
    {
        services.AddSingleton<ReaderVotes>();
        return services;
    }
}
