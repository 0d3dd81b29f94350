using System.ComponentModel;
using Hangfire;
using Newsletter.Database;
using Npgsql;

namespace Newsletter.Relevance;

/// <summary>
/// Reads the keyword lines readers saved (signing up, on the manage page, by an admin or an import) for meaning soon
/// after they are saved, so a fan-out finds them embedded and spends its time on the day's papers. Runs every minute
/// and is a query when nothing was saved; a large import is worked through one budget at a time, each pass queueing the
/// next. One run at a time: the others find the lock taken and leave the work to it.
/// </summary>
public sealed class SavedLinesEmbeddingJob(NpgsqlDataSource db, RelevanceStore relevance, IBackgroundJobClient jobs,
    ILogger<SavedLinesEmbeddingJob> logger)
{
    public const string RecurringJobId = "embed-saved-keyword-lines";

    /// <summary>Lines read per pass; the embedding process's budget usually ends a pass first.</summary>
    private const int LinesPerPass = 20_000;

    [AutomaticRetry(Attempts = 0)] // It runs again within a minute anyway.
    [DisplayName("Read saved keyword lines for meaning")]
    public async Task RunAsync(CancellationToken ct)
    {
        var (ran, result) = await AdvisoryLocks.TryRunAsync(db, LockSpace.SavedKeywordLines, 0,
            () => relevance.EmbedSavedLinesAsync(LinesPerPass, ct), ct);
        if (!ran || result.Read == 0)
        {
            return;
        }
        logger.LogInformation("Saved keyword lines: {Read} read, {Embedded} newly embedded, {Left} still without a vector",
            result.Read, result.Embedded, result.Left);
        // Another pass at once while this one made progress; after a failure (logged by the embedding process) the
        // next minute's run tries again.
        if (result.More && result.Left < result.Read)
        {
            jobs.Enqueue<SavedLinesEmbeddingJob>(job => job.RunAsync(CancellationToken.None));
        }
    }
}
