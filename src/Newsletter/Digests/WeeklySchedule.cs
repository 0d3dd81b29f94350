namespace Newsletter.Digests;

/// <summary>
/// One week of a weekly reader: the digest is due at <see cref="Due"/> (their weekday at the configured hour, their
/// time), gathers the issues that arrived after <see cref="PreviousDue"/> up to it, and is named by
/// <see cref="WeekOf"/>, the reader's local date of <see cref="Due"/>. Consecutive weeks share their edge, so every
/// issue falls in exactly one week.
/// </summary>
public sealed record WeeklySlot(DateOnly WeekOf, DateTimeOffset PreviousDue, DateTimeOffset Due);

/// <summary>The calendar arithmetic of weekly digests: local wall-clock times, daylight saving included.</summary>
public static class WeeklySchedule
{
    /// <summary>The latest week due at or before <paramref name="now"/>.</summary>
    public static WeeklySlot LatestDue(DateTimeOffset now, DayOfWeek weekday, int hour, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        ArgumentOutOfRangeException.ThrowIfNegative(hour);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hour, 23);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        var dueDate = today.AddDays(-(((int)today.DayOfWeek - (int)weekday + 7) % 7));
        var due = At(dueDate, hour, zone);
        if (due > now)
        {
            dueDate = dueDate.AddDays(-7);
            due = At(dueDate, hour, zone);
        }
        return new WeeklySlot(dueDate, At(dueDate.AddDays(-7), hour, zone), due);
    }

    /// <summary>
    /// The instant a zone's clocks show <paramref name="hour"/>:00 on <paramref name="date"/>. An hour the clocks skip
    /// (spring forward) is read with the offset before the jump, so it lands just after it (02:00 becomes 03:00); an
    /// hour the clocks show twice (fall back) is its first occurrence. In UTC, as PostgreSQL takes it.
    /// </summary>
    public static DateTimeOffset At(DateOnly date, int hour, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var local = date.ToDateTime(new TimeOnly(hour, 0));
        if (zone.IsAmbiguousTime(local))
        {
            // The first occurrence is the one before the clocks went back: the larger offset.
            return new DateTimeOffset(local, zone.GetAmbiguousTimeOffsets(local).Max()).ToUniversalTime();
        }
        if (zone.IsInvalidTime(local))
        {
            // No transition is within hours of another: six hours earlier the offset before the jump applies.
            return new DateTimeOffset(local, zone.GetUtcOffset(local.AddHours(-6))).ToUniversalTime();
        }
        return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
    }
}
