using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Admin;
using Newsletter.Digests;
using Newsletter.Subscribers;
using static Newsletter.IntegrationTests.Digests.ReaderChoicesTestKit;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>The reader choices in subscriber CSV: exported as extra columns, optional on import, carried across databases.</summary>
public sealed class ReaderChoicesCsvTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExportThenImport_IntoAnotherDatabase_CarriesFrequencyWeekdayTimeZoneAndNoRepeats()
    {
        string csv;
        await using (var source = await TestApp.BuildAsync())
        {
            var store = source.Services.GetRequiredService<SubscriberStore>();
            var weekly = await source.AddSubscriberAsync("weekly@lab.example.org", "diffusion -medical");
            await store.UpdateChoicesAsync(weekly.Id, new ReaderChoices(3)
            {
                Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Friday, TimeZone = "America/New_York", NoRepeats = false,
            }, Ct);
            await source.AddSubscriberAsync("daily@lab.example.org", "robotics");
            var text = new StringWriter();
            await source.Services.GetRequiredService<SubscriberCsv>().ExportAsync(text, null, Ct);
            csv = text.ToString();
        }

        await using var target = await TestApp.BuildAsync();
        var imported = await target.Services.GetRequiredService<SubscriberCsv>().ImportAsync(new StringReader(csv), Ct);
        var targetStore = target.Services.GetRequiredService<SubscriberStore>();
        var weeklyChoices = await targetStore.GetChoicesAsync((await targetStore.FindByEmailAsync("weekly@lab.example.org", Ct))!.Id, Ct);
        var dailyChoices = await targetStore.GetChoicesAsync((await targetStore.FindByEmailAsync("daily@lab.example.org", Ct))!.Id, Ct);

        Assert.StartsWith("\uFEFFemail,interests,status,format,frequency,weekday,time_zone,no_repeats\r\n", csv, StringComparison.Ordinal);
        Assert.Contains("weekly@lab.example.org,diffusion -medical,active,html,weekly,friday,America/New_York,false", csv, StringComparison.Ordinal);
        Assert.Equal(2, imported.Created);
        Assert.Empty(imported.Errors);
        Assert.Equal((DigestFrequency.Weekly, DayOfWeek.Friday, "America/New_York", false),
            (weeklyChoices.Frequency, weeklyChoices.Weekday, weeklyChoices.TimeZone, weeklyChoices.NoRepeats));
        Assert.Equal((DigestFrequency.Daily, DayOfWeek.Monday, (string?)null, true),
            (dailyChoices.Frequency, dailyChoices.Weekday, dailyChoices.TimeZone, dailyChoices.NoRepeats));
    }

    [Fact]
    public async Task Import_OldColumnsOrBadChoices_DefaultsKeptAndBadRowsReportedByLine()
    {
        await using var app = await TestApp.BuildAsync();
        var store = app.Services.GetRequiredService<SubscriberStore>();
        var existing = await app.AddSubscriberAsync("kept@lab.example.org", "robotics");
        await store.UpdateChoicesAsync(existing.Id, ReaderChoices.Default with { Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Sunday }, Ct);
        var turned = await app.AddSubscriberAsync("turned@lab.example.org", "robotics");
        var back = await app.AddSubscriberAsync("back@lab.example.org", "robotics");
        await store.UpdateChoicesAsync(back.Id, ReaderChoices.Default with { Frequency = DigestFrequency.Weekly }, Ct);
        const string TurnedDailyAt = "select coalesce(weekly_until::text, 'never') from subscribers where id = @id";
        const string ChangedAt = "select coalesce(weekly_since::text, 'never') from subscribers where id = @id";
        var keptChangedAt = await app.ScalarAsync<string>(ChangedAt, ("id", existing.Id));
        var csv = string.Join("\r\n",
            "email,interests,status,format,frequency,weekday,time_zone,no_repeats", // 1
            "kept@lab.example.org,robotics,,,,,,",                                   // 2: blank choices keep theirs
            "fresh@lab.example.org,diffusion,,,,,,",                                 // 3: defaults
            "when@lab.example.org,diffusion,,,fortnightly,,,",                       // 4
            "day@lab.example.org,diffusion,,,weekly,someday,,",                      // 5
            "zone@lab.example.org,diffusion,,,weekly,monday,Mars/Olympus,",          // 6
            "flag@lab.example.org,diffusion,,,,,,maybe",                             // 7
            "turned@lab.example.org,robotics,,,weekly,friday,,",                     // 8: a daily reader turned weekly
            "back@lab.example.org,robotics,,,daily,,,",                              // 9: a weekly reader turned daily
            "");

        var result = await app.Services.GetRequiredService<SubscriberCsv>().ImportAsync(new StringReader(csv), Ct);
        var kept = await store.GetChoicesAsync(existing.Id, Ct);
        var fresh = await store.GetChoicesAsync((await store.FindByEmailAsync("fresh@lab.example.org", Ct))!.Id, Ct);

        Assert.Equal([4, 5, 6, 7], result.Errors.Select(e => e.Line));
        Assert.Contains("fortnightly", result.Errors[0].Reason, StringComparison.Ordinal);
        Assert.Contains("someday", result.Errors[1].Reason, StringComparison.Ordinal);
        Assert.Contains("Mars/Olympus", result.Errors[2].Reason, StringComparison.Ordinal);
        Assert.Contains("maybe", result.Errors[3].Reason, StringComparison.Ordinal);
        Assert.Equal((DigestFrequency.Weekly, DayOfWeek.Sunday), (kept.Frequency, kept.Weekday));
        Assert.Equal(ReaderChoices.Default, fresh);
        // Their first week starts when they turned weekly (WeeklyDigestJob); blank choices change nothing.
        Assert.NotEqual("never", await app.ScalarAsync<string>(ChangedAt, ("id", turned.Id)));
        Assert.Equal(keptChangedAt, await app.ScalarAsync<string>(ChangedAt, ("id", existing.Id)));
        // The days since their last weekly digest come once, from the weekly job's next run.
        Assert.NotEqual("never", await app.ScalarAsync<string>(TurnedDailyAt, ("id", back.Id)));
        Assert.Equal("never", await app.ScalarAsync<string>(TurnedDailyAt, ("id", existing.Id)));
    }

    [Fact]
    public async Task Import_NewWeeklyReader_FirstWeekStartsAtTheImportNotTheWeekBefore()
    {
        // Tuesday 11 March a listing arrives; Wednesday 19 March a weekly reader (Mondays) is imported.
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var app = await TestApp.BuildAsync(replace: s => s.AddSingleton<TimeProvider>(clock));
        await IngestAsync(app, new DateOnly(2025, 3, 11), SamplePapers(0, 2));
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 19, 12, 0, 0, TimeSpan.Zero));
        await app.Services.GetRequiredService<SubscriberCsv>().ImportAsync(new StringReader(
            "email,interests,status,format,frequency,weekday,time_zone,no_repeats\r\nnew@lab.example.org,,active,html,weekly,monday,UTC,\r\n"), Ct);
        var job = app.Services.GetRequiredService<WeeklyDigestJob>();

        // The week due on Monday 17 March, before they joined, is not theirs.
        await job.RunAsync(Ct);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from weekly_digests"));

        // Their first weekly digest holds the listing of Thursday 20 March only.
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 20, 15, 0, 0, TimeSpan.Zero));
        var thursday = await IngestAsync(app, new DateOnly(2025, 3, 20), SamplePapers(2, 2));
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 24, 8, 0, 0, TimeSpan.Zero));
        await job.RunAsync(Ct);
        Assert.Equal([thursday], await app.ScalarAsync<long[]>(
            "select g.issue_ids from weekly_digests w join delivery_generations g on (g.issue_id, g.generation) = (w.issue_id, w.generation)"));
    }
}
