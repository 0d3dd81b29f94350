using System.ComponentModel.DataAnnotations;
using MailKit.Security;

namespace Newsletter.Digests;

/// <summary><c>Newsletter:Smtp</c>: the server digests are handed to. Unused when a pickup folder is configured.</summary>
public sealed class SmtpOptions
{
    public const string Section = "Newsletter:Smtp";

    public string? Host { get; set; }

    [Range(1, 65535)]
    public int Port { get; set; } = 25;

    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.StartTlsWhenAvailable;
    public string? Username { get; set; }
    public string? Password { get; set; }

    /// <summary>SMTP connections per worker process, each one send batch at a time.</summary>
    [Range(1, 64)]
    public int Connections { get; set; } = 4;

    /// <summary>Per worker process; 0 means as fast as the server accepts.</summary>
    [Range(0, 100_000)]
    public double MaxMessagesPerSecond { get; set; }

    /// <summary>Generous on purpose: a timeout after the final "." may still mean the server took the message.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>When set, digests are written here as .eml files instead of being sent (development).</summary>
    public string? PickupFolder { get; set; }
}

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

/// <summary><c>Newsletter:Jobs</c>: how quickly Hangfire notices new, scheduled and orphaned jobs.</summary>
public sealed class JobOptions
{
    public const string Section = "Newsletter:Jobs";

    /// <summary>How long a job of a killed worker stays invisible before another worker re-runs it.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Fallback queue polling (new jobs arrive by LISTEN/NOTIFY) and the check for scheduled retries.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
}
