using Hangfire;
using Newsletter.Digests;

namespace Newsletter.Hosting;

internal sealed class HangfireFanOutScheduler(IBackgroundJobClient jobs) : IFanOutScheduler
{
    public void ScheduleFanOut(long issueId, int generation) =>
        jobs.Enqueue<FanOutJob>(job => job.RunAsync(issueId, generation, CancellationToken.None));

    public void ScheduleFirstFanOuts(IReadOnlyList<long> issueIds)
    {
        if (issueIds.Count == 1)
        {
            ScheduleFanOut(issueIds[0], generation: 1);
        }
        else if (issueIds.Count > 1)
        {
            var ids = issueIds.ToArray();
            jobs.Enqueue<FanOutJob>(job => job.RunFirstGenerationsAsync(ids, CancellationToken.None));
        }
    }
}
