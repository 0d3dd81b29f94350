namespace Newsletter.Digests;

/// <summary>
/// Has the digest templates compiled when the worker starts (a few seconds of Roslyn in a child process), not when the
/// first batch of the day is due, and says so in the log; a custom template that does not compile is reported at
/// start, not at send time.
/// </summary>
internal sealed partial class DigestTemplateWarmUp(DigestRenderer renderer, ILogger<DigestTemplateWarmUp> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await renderer.WarmUpAsync(stoppingToken);
            // What loading the templates allocated (about 100 MB when no child could compile them) is garbage now: hand
            // it back to the system before the worker's steady state, instead of carrying it as its peak.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            LogCompiled(logger);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped before the compilation finished; the first digest compiles them instead.
        }
        catch (Exception ex)
        {
            LogFailed(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Digest templates compiled")]
    private static partial void LogCompiled(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "The digest templates do not compile; no digest can be sent until they are fixed")]
    private static partial void LogFailed(ILogger logger, Exception ex);
}
