using System.ComponentModel.DataAnnotations;

namespace Newsletter.Digests;

/// <summary><c>Newsletter:Delivery</c>: how digests are batched, how long a deferred one is retried, when weekly ones go out.</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Newsletter:Delivery";

    [Range(1, 5000)]
    public int BatchSize { get; set; } = 500;

    /// <summary>First wait after a 4xx or a lost connection; it doubles (with jitter) on each further attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00",
        ErrorMessage = "Newsletter:Delivery:FirstRetryDelay must be between 1 second and 1 day, written hh:mm:ss (00:01:00; a bare 60 is 60 days).")]
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A digest still deferred this long after it was planned is given up as failed.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00",
        ErrorMessage = "Newsletter:Delivery:RetryDeadline must be between 1 minute and 7 days, written d.hh:mm:ss (1.00:00:00).")]
    public TimeSpan RetryDeadline { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The hour (0-23, the reader's time, else the server's) weekly digests go out on the reader's weekday.</summary>
    [Range(0, 23)]
    public int WeeklyHour { get; set; } = 8;
}
