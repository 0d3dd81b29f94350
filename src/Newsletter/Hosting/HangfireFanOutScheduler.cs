using Hangfire;
using Newsletter.Digests;

namespace Newsletter.Hosting;

internal sealed class HangfireFanOutScheduler(IBackgroundJobClient jobs) : IFanOutScheduler
{
    public void ScheduleFanOut(long issueId, int generation) =>
        jobs.Enqueue<FanOutJob>(job => job.RunAsync(issueId, generation, CancellationToken.None));
}
