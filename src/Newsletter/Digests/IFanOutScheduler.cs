namespace Newsletter.Digests;

/// <summary>Starts the fan-out of an issue's delivery generation. The ingestor calls it after its commit.</summary>
public interface IFanOutScheduler
{
    void ScheduleFanOut(long issueId, int generation);

    /// <summary>
    /// One job for the first generation of several new issues: an inbox backlog queues one job per chunk instead of
    /// one per message (a Hangfire enqueue cost a third of a message's ingestion).
    /// </summary>
    void ScheduleFirstFanOuts(IReadOnlyList<long> issueIds);
}
