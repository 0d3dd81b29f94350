using System.ComponentModel.DataAnnotations;

namespace Newsletter.Digests;

/// <summary><c>Newsletter:Delivery</c>: how digests are batched and how long a deferred one is retried.</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Newsletter:Delivery";

    [Range(1, 5000)]
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// Sent digests whose outcomes are written to the ledger in one update (they also wait at most 250 ms). This is the
    /// crash window: a worker killed mid-send sends at most this many digests per connection twice after the restart;
    /// a clean stop writes them first. 1 writes each outcome before the next digest goes out, at about 0.3 ms more
    /// PostgreSQL CPU per digest.
    /// </summary>
    [Range(1, 1000)]
    public int OutcomesPerWrite { get; set; } = 32;

    /// <summary>First wait after a 4xx or a lost connection; it doubles (with jitter) on each further attempt.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A digest still deferred this long after it was planned is given up as failed.</summary>
    public TimeSpan RetryDeadline { get; set; } = TimeSpan.FromHours(24);
}
