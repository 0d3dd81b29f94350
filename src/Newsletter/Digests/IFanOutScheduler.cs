namespace Newsletter.Digests;

/// <summary>Starts the fan-out of an issue's delivery generation. The ingestor calls it after its commit.</summary>
public interface IFanOutScheduler
{
    void ScheduleFanOut(long issueId, int generation);
}
