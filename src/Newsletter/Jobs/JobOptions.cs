using System.ComponentModel.DataAnnotations;

namespace Newsletter.Jobs;

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
