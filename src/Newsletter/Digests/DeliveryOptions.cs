using System.ComponentModel.DataAnnotations;

namespace Newsletter.Digests;

/// <summary><c>Newsletter:Delivery</c>: how digests are batched and how long a deferred one is retried.</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Newsletter:Delivery";

    [Range(1, 5000)]
    public int BatchSize { get; set; } = 500;

    /// <summary>First wait after a 4xx or a lost connection; it doubles (with jitter) on each further attempt.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A digest still deferred this long after it was planned is given up as failed.</summary>
    public TimeSpan RetryDeadline { get; set; } = TimeSpan.FromHours(24);
}
