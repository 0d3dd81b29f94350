using System.ComponentModel;
using Hangfire;

namespace Newsletter.Digests;

/// <summary>Writes one delivery row per subscriber for an issue's generation and queues the send batches.</summary>
public sealed class FanOutJob
{
    [AutomaticRetry(Attempts = 5)]
    [DisplayName("Fan out issue {0}, generation {1}")]
    public Task RunAsync(long issueId, int generation, CancellationToken ct) => Task.CompletedTask;
}
