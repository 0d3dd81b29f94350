using Newsletter.Digests;

namespace Newsletter.Tests.Digests;

public class WeeklyScheduleTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    private static DateTimeOffset Utc(int year, int month, int day, int hour, int minute = 0) => new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public void LatestDue_AfterTheHourOnTheWeekday_IsThatDay()
    {
        // Monday 2025-03-10, 08:00 in Berlin is 07:00 UTC (CET, +1).
        var slot = WeeklySchedule.LatestDue(Utc(2025, 3, 10, 7, 30), DayOfWeek.Monday, 8, Berlin);

        Assert.Equal(new DateOnly(2025, 3, 10), slot.WeekOf);
        Assert.Equal(Utc(2025, 3, 10, 7), slot.Due);
        Assert.Equal(Utc(2025, 3, 3, 7), slot.PreviousDue);
        Assert.Equal((TimeSpan.Zero, TimeSpan.Zero), (slot.Due.Offset, slot.PreviousDue.Offset)); // PostgreSQL takes UTC only
    }

    [Fact]
    public void LatestDue_BeforeTheHourOnTheWeekday_IsTheWeekBefore()
    {
        var slot = WeeklySchedule.LatestDue(Utc(2025, 3, 10, 6, 59), DayOfWeek.Monday, 8, Berlin);

        Assert.Equal(new DateOnly(2025, 3, 3), slot.WeekOf);
        Assert.Equal(Utc(2025, 3, 3, 7), slot.Due);
    }

    [Fact]
    public void LatestDue_ExactlyAtTheHour_IsDue()
    {
        var slot = WeeklySchedule.LatestDue(Utc(2025, 3, 10, 7), DayOfWeek.Monday, 8, Berlin);

        Assert.Equal(new DateOnly(2025, 3, 10), slot.WeekOf);
    }

    [Fact]
    public void LatestDue_ReaderDateAheadOfUtc_UsesTheReadersWeekday()
    {
        // Sunday 23:30 UTC is already Monday 08:30 in Tokyo.
        var tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");

        var slot = WeeklySchedule.LatestDue(Utc(2025, 3, 9, 23, 30), DayOfWeek.Monday, 8, tokyo);

        Assert.Equal(new DateOnly(2025, 3, 10), slot.WeekOf);
        Assert.Equal(Utc(2025, 3, 9, 23), slot.Due);
    }

    [Fact]
    public void LatestDue_WeekAcrossSpringForward_IsAnHourShorterAndStartsWhereTheLastEnded()
    {
        // Berlin moves to CEST on Sunday 2025-03-30: Monday 08:00 is 07:00 UTC before, 06:00 UTC after.
        var before = WeeklySchedule.LatestDue(Utc(2025, 3, 24, 7), DayOfWeek.Monday, 8, Berlin);
        var after = WeeklySchedule.LatestDue(Utc(2025, 3, 31, 6), DayOfWeek.Monday, 8, Berlin);

        Assert.Equal(Utc(2025, 3, 24, 7), before.Due);
        Assert.Equal(Utc(2025, 3, 31, 6), after.Due);
        Assert.Equal(before.Due, after.PreviousDue);
        Assert.Equal(TimeSpan.FromHours(167), after.Due - after.PreviousDue);
    }

    [Fact]
    public void LatestDue_WeekAcrossFallBack_IsAnHourLonger()
    {
        // New York leaves EDT on Sunday 2025-11-02: Monday 08:00 is 12:00 UTC before, 13:00 UTC after.
        var slot = WeeklySchedule.LatestDue(Utc(2025, 11, 3, 13), DayOfWeek.Monday, 8, NewYork);

        Assert.Equal(Utc(2025, 11, 3, 13), slot.Due);
        Assert.Equal(Utc(2025, 10, 27, 12), slot.PreviousDue);
        Assert.Equal(TimeSpan.FromHours(169), slot.Due - slot.PreviousDue);
    }

    [Fact]
    public void At_HourTheClocksSkip_IsTheMomentAfterTheJump()
    {
        // Berlin 2025-03-30: 02:00 CET jumps to 03:00 CEST, at 01:00 UTC.
        Assert.Equal(Utc(2025, 3, 30, 1), WeeklySchedule.At(new DateOnly(2025, 3, 30), 2, Berlin));
    }

    [Fact]
    public void At_HourTheClocksShowTwice_IsTheFirst()
    {
        // Berlin 2025-10-26: 02:00 happens at 00:00 UTC (CEST) and again at 01:00 UTC (CET).
        Assert.Equal(Utc(2025, 10, 26, 0), WeeklySchedule.At(new DateOnly(2025, 10, 26), 2, Berlin));
    }

    [Fact]
    public void LatestDue_OnTheSkippedHour_IsDueOnceThatDay()
    {
        // A Sunday 02:00 reader in Berlin on the day of the jump: due right after it, and not again before next week.
        var atJump = WeeklySchedule.LatestDue(Utc(2025, 3, 30, 1), DayOfWeek.Sunday, 2, Berlin);
        var later = WeeklySchedule.LatestDue(Utc(2025, 4, 5, 23), DayOfWeek.Sunday, 2, Berlin);

        Assert.Equal(new DateOnly(2025, 3, 30), atJump.WeekOf);
        Assert.Equal(atJump, later);
    }

    [Fact]
    public void ZoneOrServer_UnknownOrBlank_IsTheServers()
    {
        Assert.Same(NewYork, Newsletter.Subscribers.ReaderChoices.ZoneOrServer(null, NewYork));
        Assert.Same(NewYork, Newsletter.Subscribers.ReaderChoices.ZoneOrServer("Mars/Olympus", NewYork));
        Assert.Equal("Europe/Berlin", Newsletter.Subscribers.ReaderChoices.ZoneOrServer("Europe/Berlin", NewYork).Id);
    }

    [Fact]
    public void CheckTimeZone_UnknownName_IsRefusedNamingIt()
    {
        var error = Assert.Throws<ArgumentException>(() => Newsletter.Subscribers.ReaderChoices.CheckTimeZone("Mars/Olympus"));

        Assert.Contains("Mars/Olympus", error.Message, StringComparison.Ordinal);
        Assert.Null(Newsletter.Subscribers.ReaderChoices.CheckTimeZone("  "));
        Assert.Equal("Europe/Berlin", Newsletter.Subscribers.ReaderChoices.CheckTimeZone(" Europe/Berlin "));
    }
}
