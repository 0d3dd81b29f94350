using Hangfire;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Newsletter.Hosting;
using Newsletter.Jobs;

namespace Newsletter.Relevance;

/// <summary>Learning per reader: votes from digests, paper and keyword-line meanings, and the ranking they drive.</summary>
public static class RelevanceServices
{
    public static IServiceCollection AddRelevance(this IServiceCollection services, ProcessRole? role = null)
    {
        services.AddOptionsWithValidateOnStart<RelevanceOptions>().BindConfiguration(RelevanceOptions.Section).ValidateDataAnnotations();
        services.AddSingleton<ReaderVotes>();
        services.AddSingleton<RelevanceStore>();
        // The model loads on first use: a process that never embeds never pays for it. A fan-out embeds in a child
        // process (EmbeddingProcess); the web process embeds a previewed line in process.
        services.AddSingleton(sp => TextEmbedder.CreateMiniLm(sp.GetRequiredService<IOptions<RelevanceOptions>>().Value.ModelDirectory));
        services.TryAddSingleton(_ => EmbedderCommand.ThisApplication());
        services.AddSingleton<EmbeddingProcess>();
        services.AddTransient<SavedLinesEmbeddingJob>();
        services.AddTransient<UnusedLinesJob>();
        if (role.RunsJobs())
        {
            services.AddRecurringJob((recurring, _) => recurring.AddOrUpdate<SavedLinesEmbeddingJob>(SavedLinesEmbeddingJob.RecurringJobId,
                job => job.RunAsync(CancellationToken.None), "* * * * *"));
            services.AddRecurringJob((recurring, _) => recurring.AddOrUpdate<UnusedLinesJob>(UnusedLinesJob.RecurringJobId,
                job => job.RunAsync(CancellationToken.None), "17 * * * *"));
        }
        return services;
    }
}
