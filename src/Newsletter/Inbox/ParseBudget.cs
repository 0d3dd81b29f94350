namespace Newsletter.Inbox;

/// <summary>
/// The time one message may take to parse. Every step of the parser is linear in its input; this is the last line of
/// defence behind that: it is checked between steps (lines, paragraphs, HTML tokens), so a message that still takes
/// too long stops soon after its budget instead of holding the poll.
/// </summary>
internal sealed class ParseBudget
{
    public static ParseBudget Unlimited { get; } = new(null, Timeout.InfiniteTimeSpan, CancellationToken.None);

    private readonly TimeProvider? clock;
    private readonly long deadline;
    private readonly CancellationToken cancellation;

    private ParseBudget(TimeProvider? clock, TimeSpan limit, CancellationToken cancellation)
    {
        this.clock = clock;
        Limit = limit;
        this.cancellation = cancellation;
        if (clock is not null)
        {
            var ticks = (decimal)limit.Ticks * clock.TimestampFrequency / TimeSpan.TicksPerSecond;
            deadline = clock.GetTimestamp() + (long)Math.Min(ticks, long.MaxValue / 2);
        }
    }

    public TimeSpan Limit { get; }

    public static ParseBudget Start(TimeProvider clock, TimeSpan limit, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(limit, TimeSpan.Zero);
        return new ParseBudget(clock, limit, cancellation);
    }

    /// <summary>Throws when the budget is spent (<see cref="ParseTimeoutException"/>) or the caller cancelled.</summary>
    public void Check()
    {
        if (clock is null)
        {
            return;
        }

        cancellation.ThrowIfCancellationRequested();
        if (clock.GetTimestamp() >= deadline)
        {
            throw new ParseTimeoutException(Limit);
        }
    }
}
