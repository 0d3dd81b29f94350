using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Digests;
using Newsletter.Hosting;
using Newsletter.Subscribers;
using static Newsletter.IntegrationTests.Digests.ReaderChoicesTestKit;

namespace Newsletter.IntegrationTests.Digests;

/// <summary>
/// Weekly digests against real PostgreSQL, Hangfire and SMTP, on a fake clock: a week of listings becomes one digest
/// per weekly reader at their hour, each paper once, and nothing more that week, whatever runs again.
/// </summary>
public sealed class WeeklyDigestTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Weekly = "weekly@lab.example";
    private const string Daily = "daily@lab.example";

    [Fact]
    public async Task WeeklyRun_AfterAWeekOfIssues_OneDigestWithEachPaperOnceAndNothingAgainAfterARerunOrRestart()
    {
        // Tuesday 11 March 2025, afternoon; the weekly reader wants Mondays at 08:00 Berlin time (07:00 UTC in March).
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        var app = await StartAsync(smtp, database, clock);
        try
        {
            var weekly = await AddReaderAsync(app, Weekly, c => c with
            {
                Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Monday, TimeZone = "Europe/Berlin",
            });
            await AddReaderAsync(app, Daily, c => c with { NoRepeats = false });

            // Three listings in the week; papers 2, 3 and 5 trend twice. Eight papers fit in one mail, under the size limit.
            var issues = new List<long>();
            foreach (var (day, from, count) in new[] { (11, 0, 4), (12, 2, 4), (14, 5, 3) })
            {
                // The daily fan-out reaches the daily reader only.
                issues.Add(await IngestDailyAsync(app, clock, day, SamplePapers(from, count)));
            }
            var job = app.Services.GetRequiredService<WeeklyDigestJob>();

            // A minute before the hour: not due yet.
            clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 6, 59, 0, TimeSpan.Zero));
            await job.RunAsync(Ct);
            Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from deliveries where week_of is not null"));

            clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 7, 0, 0, TimeSpan.Zero));
            await job.RunAsync(Ct);
            await Eventually.WaitAsync(async () => await app.ScalarAsync<long>(
                "select count(*) from deliveries where week_of is not null and status = 'sent'") == 1, "the weekly digest to be sent");

            var digest = Assert.Single(To(smtp, Weekly));
            var titles = DigestReader.Titles(digest);
            Assert.Equal(Titles(SamplePapers(0, 8)).Order(StringComparer.Ordinal), titles.Order(StringComparer.Ordinal));
            Assert.Equal(titles.Count, titles.Distinct(StringComparer.Ordinal).Count());
            Assert.Equal("8 papers for you this week (17 Mar 2025)", digest.Subject);
            Assert.Equal(3, To(smtp, Daily).Count);
            Assert.Equal("2025-03-17", await app.ScalarAsync<string>($"select week_of::text from weekly_digests where subscriber_id = {weekly.Id}"));
            Assert.Equal(issues[^1], await app.ScalarAsync<long>("select issue_id from deliveries where week_of is not null"));

            // A vote from the week's digest on a paper of its first day, not of the issue its ledger row is filed under.
            var firstDayOnly = Titles(SamplePapers(0, 1))[0];
            var text = digest.TextBody!.ReplaceLineEndings("\n");
            var more = app.LinkIn(System.Text.RegularExpressions.Regex.Match(
                text[text.IndexOf(firstDayOnly[..20], StringComparison.Ordinal)..], @"More like this: (\S+)").Groups[1].Value, "vote/");
            using var client = app.CreateClient();
            var votePage = await client.GetAsync(more, Ct);
            Assert.Equal(System.Net.HttpStatusCode.OK, votePage.StatusCode);
            using var voted = await client.PostAsync(more, new FormUrlEncodedContent(Antiforgery.FieldsIn(await votePage.Content.ReadAsStringAsync(Ct))), Ct);
            Assert.Equal(System.Net.HttpStatusCode.OK, voted.StatusCode);
            Assert.Equal(1L, await app.ScalarAsync<long>($"select count(*) from reader_votes where subscriber_id = {weekly.Id} and vote = 1"));

            // Again within the week, and later the same day: nothing new is planned.
            await job.RunAsync(Ct);
            clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 20, 0, 0, TimeSpan.Zero));
            await job.RunAsync(Ct);
            Assert.Equal(1L, await app.ScalarAsync<long>($"select count(*) from deliveries where subscriber_id = {weekly.Id}"));
        }
        finally
        {
            await app.DisposeAsync();
        }

        // A restart (a new process on the same database) in the same week sends nothing either.
        await using (var restarted = await StartAsync(smtp, database, clock))
        {
            await restarted.Services.GetRequiredService<WeeklyDigestJob>().RunAsync(Ct);
            Assert.Equal(1L, await restarted.ScalarAsync<long>("select count(*) from weekly_digests"));
            Assert.Equal(1L, await restarted.ScalarAsync<long>("select count(*) from deliveries where week_of is not null"));
        }
        Assert.Single(To(smtp, Weekly));
    }

    [Fact]
    public async Task WeeklyRun_AReaderErasedWhileTheWeekIsPlanned_TheOtherReadersWeekIsWrittenAtOnce()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await StartAsync(smtp, database, clock);
        ReaderChoices Mondays(ReaderChoices c) => c with { Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Monday, TimeZone = "Europe/Berlin" };
        await AddReaderAsync(app, Weekly, Mondays);
        var leaving = await AddReaderAsync(app, "leaves@lab.example", Mondays);
        await AddReaderAsync(app, Daily, c => c);
        var issue = await IngestDailyAsync(app, clock, 11, SamplePapers(0, 4));
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 7, 0, 0, TimeSpan.Zero));

        // The run has read whose week is due and waits to write it (the test holds the week's issue) ...
        await using var holder = await app.OpenConnectionAsync();
        await using var hold = await holder.BeginTransactionAsync(Ct);
        await using (var row = new Npgsql.NpgsqlCommand($"select 1 from issues where id = {issue} for update", holder, hold))
        {
            await row.ExecuteNonQueryAsync(Ct);
        }
        var run = app.Services.GetRequiredService<WeeklyDigestJob>().RunAsync(Ct);
        await Eventually.WaitAsync(async () => await app.ScalarAsync<long>(
            "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and query like '%from issues where id%for update%' and pid <> pg_backend_pid()") > 0,
            "the weekly run waiting to write the week");
        // ... when the admin erases one of its readers.
        Assert.True(await app.Services.GetRequiredService<SubscriberStore>().DeleteAsync(leaving.Id, Ct));
        await hold.RollbackAsync(Ct);
        var failure = await Record.ExceptionAsync(() => run.WaitAsync(Eventually.DefaultTimeout, Ct));

        Assert.Null(failure);
        Assert.Equal([Weekly], await app.RowsAsync(
            "select s.email from deliveries d join subscribers s on s.id = d.subscriber_id where d.week_of is not null"));
    }

    [Fact]
    public async Task WeeklyRun_APaperOfLastWeeksDigestTrendsAgain_NotSentAgain()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await StartAsync(smtp, database, clock);
        await AddReaderAsync(app, Weekly, c => c with { Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Monday, TimeZone = "UTC" });
        var job = app.Services.GetRequiredService<WeeklyDigestJob>();

        // Week 1: papers 0-1 on Tuesday, 2-3 on Friday; its digest is filed under Friday's issue, which paper 0 is not in.
        await IngestAsync(app, new DateOnly(2025, 3, 11), SamplePapers(0, 2));
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 14, 15, 0, 0, TimeSpan.Zero));
        await IngestAsync(app, new DateOnly(2025, 3, 14), SamplePapers(2, 2));
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 8, 0, 0, TimeSpan.Zero));
        await job.RunAsync(Ct);
        await Eventually.WaitAsync(async () => To(smtp, Weekly).Count == 1, "week 1's digest");

        // Week 2: paper 0 trends again beside paper 4.
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 18, 15, 0, 0, TimeSpan.Zero));
        await IngestAsync(app, new DateOnly(2025, 3, 18), [.. SamplePapers(0, 1), .. SamplePapers(4, 1)]);
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 24, 8, 0, 0, TimeSpan.Zero));
        await job.RunAsync(Ct);
        await Eventually.WaitAsync(async () => To(smtp, Weekly).Count == 2, "week 2's digest");

        AssertHolds(SamplePapers(0, 4), To(smtp, Weekly)[0]);
        Assert.Equal(Titles(SamplePapers(4, 1)), DigestReader.Titles(To(smtp, Weekly)[1]));
    }

    [Fact]
    public async Task WeeklyRun_AReaderWhoSwitchesFromDailyMidWeek_GetsOnlyTheIssuesSinceTheSwitch()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await StartAsync(smtp, database, clock);
        // Repeats allowed: only the schedule keeps the days already read daily out of the week.
        var reader = await AddReaderAsync(app, Daily, c => c with { NoRepeats = false });
        var job = app.Services.GetRequiredService<WeeklyDigestJob>();

        // Tuesday and Wednesday arrive as daily digests.
        foreach (var (day, from) in new[] { (11, 0), (12, 2) })
        {
            await IngestDailyAsync(app, clock, day, SamplePapers(from, 2));
        }

        // Thursday the reader turns weekly (Mondays); the weekly run that afternoon has nothing for them yet.
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 13, 15, 0, 0, TimeSpan.Zero));
        await ChangeChoicesAsync(app, reader, c => c with
        {
            Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Monday, TimeZone = "UTC",
        });
        await job.RunAsync(Ct);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from weekly_digests"));

        clock.SetUtcNow(new DateTimeOffset(2025, 3, 14, 15, 0, 0, TimeSpan.Zero));
        await IngestAsync(app, new DateOnly(2025, 3, 14), SamplePapers(4, 2));
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 8, 0, 0, TimeSpan.Zero));
        await job.RunAsync(Ct);
        await Eventually.WaitAsync(async () => To(smtp, Daily).Count == 3, "the first weekly digest");

        AssertHolds(SamplePapers(4, 2), To(smtp, Daily)[2]);
    }

    [Fact]
    public async Task ResendToNew_AReaderWhoWasWeeklyWhenTheIssueCameAndGotItInTheirLastWeek_NotReachedAgain()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await StartAsync(smtp, database, clock);
        var reader = await AddReaderAsync(app, Weekly, c => c with
        {
            Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Monday, TimeZone = "UTC", NoRepeats = false,
        });
        await AddReaderAsync(app, Daily, c => c);
        var tuesday = await IngestDailyAsync(app, clock, 11, SamplePapers(0, 2));
        await IngestDailyAsync(app, clock, 12, SamplePapers(2, 2));
        // Thursday the reader turns daily and is sent Tuesday's and Wednesday's papers as their last week.
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 13, 15, 0, 0, TimeSpan.Zero));
        await ChangeChoicesAsync(app, reader, c => c with { Frequency = DigestFrequency.Daily });
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 13, 15, 5, 0, TimeSpan.Zero));
        await app.Services.GetRequiredService<WeeklyDigestJob>().RunAsync(Ct);
        await Eventually.WaitAsync(async () => To(smtp, Weekly).Count == 1, "the days held for the week");
        AssertHolds(SamplePapers(0, 4), To(smtp, Weekly)[0]);

        // The admin re-sends Tuesday's issue to those who joined since: the reader was there all along and has it.
        var preview = await app.Services.GetRequiredService<Resender>().PreviewAsync(tuesday, GenerationScope.New, null, Ct);

        Assert.Equal(0, preview.Recipients);
    }

    [Fact]
    public async Task WeeklyRun_AWeeklyReaderWhoTurnsDailyMidWeek_GetsTheDaysSinceTheirLastWeeklyDigestOnce()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await StartAsync(smtp, database, clock);
        var reader = await AddReaderAsync(app, Weekly, c => c with { Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Monday, TimeZone = "UTC" });
        await AddReaderAsync(app, Daily, c => c);
        var job = app.Services.GetRequiredService<WeeklyDigestJob>();

        // Tuesday and Wednesday are held for Monday's weekly digest; the daily fan-out reaches the daily reader only.
        foreach (var (day, from) in new[] { (11, 0), (12, 2) })
        {
            await IngestDailyAsync(app, clock, day, SamplePapers(from, 2));
        }

        // Thursday the reader turns daily: the next weekly run sends those two days at once.
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 13, 15, 0, 0, TimeSpan.Zero));
        await ChangeChoicesAsync(app, reader, c => c with { Frequency = DigestFrequency.Daily });
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 13, 15, 5, 0, TimeSpan.Zero));
        await job.RunAsync(Ct);
        await Eventually.WaitAsync(async () => To(smtp, Weekly).Count == 1, "the days held for the week");

        // Friday comes daily; later weekly runs send nothing more.
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 14, 15, 0, 0, TimeSpan.Zero));
        var friday = await IngestAsync(app, new DateOnly(2025, 3, 14), SamplePapers(4, 2));
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(friday, expectedRows: 2), "Friday's daily digests");
        await job.RunAsync(Ct);
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 8, 0, 0, TimeSpan.Zero));
        await job.RunAsync(Ct);

        var received = To(smtp, Weekly);
        Assert.Equal(2, received.Count);
        AssertHolds(SamplePapers(0, 4), received[0]);
        AssertHolds(SamplePapers(4, 2), received[1]);
        Assert.Equal(2L, await app.ScalarAsync<long>("select count(*) from deliveries where subscriber_id = @id", ("id", reader.Id)));
    }

    [Fact]
    public async Task WeeklyRun_WeekdayMovedLaterAfterADigest_NextDigestHoldsOnlyTheDaysSinceIt()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await StartAsync(smtp, database, clock);
        // Monday's digest holds Friday's listing, which falls in the Wednesday-to-Wednesday week too.
        var reader = await SendAMondayReadersFirstDigestAsync(app, smtp, clock, new DateOnly(2025, 3, 14));
        var job = app.Services.GetRequiredService<WeeklyDigestJob>();

        // Monday noon the reader moves their day to Wednesday; Tuesday's listing comes in between.
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 12, 0, 0, TimeSpan.Zero));
        await ChangeChoicesAsync(app, reader, c => c with { Weekday = DayOfWeek.Wednesday });
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 18, 15, 0, 0, TimeSpan.Zero));
        await IngestAsync(app, new DateOnly(2025, 3, 18), SamplePapers(2, 2));
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 19, 8, 0, 0, TimeSpan.Zero));
        await job.RunAsync(Ct);
        await Eventually.WaitAsync(async () => To(smtp, Weekly).Count == 2, "Wednesday's digest");

        AssertHolds(SamplePapers(2, 2), To(smtp, Weekly)[1]);
    }

    [Fact]
    public async Task WeeklyRun_WeekdayMovedToADayAlreadyPassed_CatchUpAtOnceHoldsOnlyTheDaysSinceTheLastDigest()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await StartAsync(smtp, database, clock);
        var reader = await SendAMondayReadersFirstDigestAsync(app, smtp, clock, new DateOnly(2025, 3, 11));
        var job = app.Services.GetRequiredService<WeeklyDigestJob>();
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 15, 0, 0, TimeSpan.Zero));
        await IngestAsync(app, new DateOnly(2025, 3, 17), SamplePapers(2, 2));

        // Tuesday afternoon the reader moves their day to Tuesday, whose hour has passed: the day since Monday's digest comes at once.
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 18, 15, 0, 0, TimeSpan.Zero));
        await ChangeChoicesAsync(app, reader, c => c with { Weekday = DayOfWeek.Tuesday });
        await job.RunAsync(Ct);
        await Eventually.WaitAsync(async () => To(smtp, Weekly).Count == 2, "the catch-up");

        // The next Tuesday holds Wednesday's listing only.
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 19, 15, 0, 0, TimeSpan.Zero));
        await IngestAsync(app, new DateOnly(2025, 3, 19), SamplePapers(4, 2));
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 25, 8, 0, 0, TimeSpan.Zero));
        await job.RunAsync(Ct);
        await Eventually.WaitAsync(async () => To(smtp, Weekly).Count == 3, "the next Tuesday's digest");

        Assert.Equal([Listed(Titles(SamplePapers(0, 2))), Listed(Titles(SamplePapers(2, 2))), Listed(Titles(SamplePapers(4, 2)))],
            To(smtp, Weekly).Select(m => Listed(DigestReader.Titles(m))));
    }

    [Fact]
    public async Task WeeklyRun_TimeZoneMovedSoTheHourComesLaterTheSameDay_SendsTheHoursSinceOnceThatDay()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await StartAsync(smtp, database, clock);
        var reader = await SendTwoDigestsOnOneMondayAsync(app, smtp, clock);
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 12, 5, 0, TimeSpan.Zero));
        await app.Services.GetRequiredService<WeeklyDigestJob>().RunAsync(Ct);

        AssertHolds(SamplePapers(2, 2), To(smtp, Weekly)[1]);
        Assert.Equal(2L, await app.ScalarAsync<long>("select count(*) from deliveries where subscriber_id = @id", ("id", reader.Id)));
    }

    [Fact]
    public async Task FanOut_ReaderTurnsWeeklyBetweenAnIssueAndItsFanOut_GetsThatIssueDailyAndNotInTheWeek()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        long issue;
        long readerId;
        // No worker yet: the issue waits for its fan-out while the reader, daily when it arrived, turns weekly.
        await using (var web = await TestApp.BuildAsync(smtp, connectionString: database.ConnectionString, replace: s => s.AddSingleton<TimeProvider>(clock)))
        {
            var reader = await AddReaderAsync(web, Daily, c => c with { NoRepeats = false });
            readerId = reader.Id;
            issue = await IngestAsync(web, new DateOnly(2025, 3, 11), SamplePapers(0, 2));
            clock.SetUtcNow(new DateTimeOffset(2025, 3, 11, 15, 0, 30, TimeSpan.Zero));
            await ChangeChoicesAsync(web, reader, c => c with
            {
                Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Monday, TimeZone = "UTC",
            });
        }
        await using var app = await StartAsync(smtp, database, clock);
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(issue, expectedRows: 1), "the issue's daily digest");

        // Their first week starts at the turn, after the issue.
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 8, 0, 0, TimeSpan.Zero));
        await app.Services.GetRequiredService<WeeklyDigestJob>().RunAsync(Ct);

        AssertHolds(SamplePapers(0, 2), Assert.Single(To(smtp, Daily)));
        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from deliveries where subscriber_id = @id", ("id", readerId)));
    }

    [Fact]
    public async Task FanOut_ReaderTurnsDailyBetweenAnIssueAndItsFanOut_GetsThatIssueOnceInTheirLastWeek()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        long issue;
        // No worker yet: the issue waits for its fan-out while the reader, weekly when it arrived, turns daily; a weekly
        // run comes before the fan-out and one after it.
        await using (var web = await TestApp.BuildAsync(smtp, connectionString: database.ConnectionString, replace: s => s.AddSingleton<TimeProvider>(clock)))
        {
            var reader = await AddReaderAsync(web, Weekly, c => c with { Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Monday, TimeZone = "UTC", NoRepeats = false });
            issue = await IngestAsync(web, new DateOnly(2025, 3, 11), SamplePapers(0, 2));
            clock.SetUtcNow(new DateTimeOffset(2025, 3, 11, 15, 0, 30, TimeSpan.Zero));
            await ChangeChoicesAsync(web, reader, c => c with { Frequency = DigestFrequency.Daily });
            clock.SetUtcNow(new DateTimeOffset(2025, 3, 11, 15, 1, 0, TimeSpan.Zero));
            await web.Services.GetRequiredService<WeeklyDigestJob>().RunAsync(Ct);
        }
        await using var app = await StartAsync(smtp, database, clock);
        await Eventually.WaitAsync(async () => await app.ScalarAsync<bool>(
            "select fanned_out_at is not null from delivery_generations where issue_id = @i and generation = 1", ("i", issue)), "the issue's fan-out");
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 11, 15, 5, 0, TimeSpan.Zero));
        await app.Services.GetRequiredService<WeeklyDigestJob>().RunAsync(Ct);
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(issue, expectedRows: 1), "the last week's digest");

        var digest = Assert.Single(To(smtp, Weekly));
        AssertHolds(SamplePapers(0, 2), digest);
        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from deliveries where week_of is not null"));
    }

    [Fact]
    public async Task WeeklyRun_TwoWorkersAtOnce_TheWeekIsWrittenAndSentOnce()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var first = await StartAsync(smtp, database, clock);
        await using var second = await TestApp.BuildAsync(smtp, connectionString: database.ConnectionString,
            replace: s => s.AddSingleton<TimeProvider>(clock));
        await AddReaderAsync(first, Weekly, c => c with { Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Wednesday });
        await IngestAsync(first, new DateOnly(2025, 3, 11), SamplePapers(0, 3));
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 12, 8, 0, 0, TimeSpan.Zero));

        await Task.WhenAll(
            first.Services.GetRequiredService<WeeklyDigestJob>().RunAsync(Ct),
            second.Services.GetRequiredService<WeeklyDigestJob>().RunAsync(Ct));
        await second.Services.GetRequiredService<WeeklyDigestJob>().RunAsync(Ct);
        await Eventually.WaitAsync(async () => await first.ScalarAsync<long>(
            "select count(*) from deliveries where week_of is not null and status = 'sent'") == 1, "the weekly digest to be sent");

        Assert.Equal(1L, await first.ScalarAsync<long>("select count(*) from deliveries where week_of is not null"));
        Assert.Equal(1L, await first.ScalarAsync<long>("select count(*) from delivery_generations where scope = 'weekly'"));
        Assert.Single(To(smtp, Weekly));
    }

    [Fact]
    public async Task Resend_WeeklyDigestToItsReader_SendsTheWeekAgainAsANewGeneration()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await StartAsync(smtp, database, clock);
        await AddReaderAsync(app, Weekly, c => c with { Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Thursday });
        await IngestAsync(app, new DateOnly(2025, 3, 11), SamplePapers(0, 4));
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 12, 15, 0, 0, TimeSpan.Zero));
        var anchor = await IngestAsync(app, new DateOnly(2025, 3, 12), SamplePapers(2, 4));
        // Thursday 08:00 in the server's time zone (the fake clock's, UTC).
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 13, 8, 0, 0, TimeSpan.Zero));
        await app.Services.GetRequiredService<WeeklyDigestJob>().RunAsync(Ct);
        // Re-sent once the ledger has the week sent: before that it is on its way, and a re-send is refused.
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(anchor, expectedRows: 1), "the weekly digest to be recorded");

        var resent = await app.Services.GetRequiredService<Resender>().RequestAsync(anchor, GenerationScope.One, Weekly, "test", Ct);
        await smtp.WaitForMessagesAsync(2, cancellationToken: Ct);

        var (first, again) = (To(smtp, Weekly)[0], To(smtp, Weekly)[1]);
        Assert.Equal(1L, resent.Recipients);
        AssertHolds(SamplePapers(0, 6), first);
        Assert.Equal(DigestReader.Titles(first), DigestReader.Titles(again));
        Assert.Equal(first.Subject, again.Subject);
        Assert.NotEqual(first.MessageId, again.MessageId);
        // Both are weekly rows of the same week in the ledger (the second recorded just after its 250).
        await Eventually.WaitAsync(async () => await app.ScalarAsync<long>(
            "select count(*) from deliveries where week_of = '2025-03-13' and status = 'sent'") == 2, "the re-sent week in the ledger");
    }

    [Fact]
    public async Task Resend_EachOfTwoWeeklyDigestsOfOneDate_CarriesItsOwnWeek()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await StartAsync(smtp, database, clock);
        var reader = await SendTwoDigestsOnOneMondayAsync(app, smtp, clock);
        await Eventually.WaitAsync(async () => await app.ScalarAsync<long>(
            "select count(*) from deliveries where subscriber_id = @id and status = 'sent'", ("id", reader.Id)) == 2, "both weeks in the ledger");
        var anchors = await app.ReadAsync("select issue_id from deliveries where subscriber_id = @id order by id", r => r.GetInt64(0), ("id", reader.Id));
        var resender = app.Services.GetRequiredService<Resender>();

        // The second week first: it is the one that found the date taken.
        await resender.RequestAsync(anchors[1], GenerationScope.One, Weekly, "test", Ct);
        await Eventually.WaitAsync(async () => To(smtp, Weekly).Count == 3, "the second week again");
        await resender.RequestAsync(anchors[0], GenerationScope.One, Weekly, "test", Ct);
        await Eventually.WaitAsync(async () => To(smtp, Weekly).Count == 4, "the first week again");

        Assert.Equal([Listed(Titles(SamplePapers(0, 2))), Listed(Titles(SamplePapers(2, 2))), Listed(Titles(SamplePapers(2, 2))), Listed(Titles(SamplePapers(0, 2)))],
            To(smtp, Weekly).Select(m => Listed(DigestReader.Titles(m))));
        Assert.All(To(smtp, Weekly), m => Assert.Equal("2 papers for you this week (17 Mar 2025)", m.Subject));
    }

    [Fact]
    public async Task WeeklyRun_OneTimeZonesWeekFails_TheOtherZonesWeekIsSentAndTheFailedOneLoggedAndSentByTheRetry()
    {
        const string Berlin = "berlin@lab.example";
        const string NewYork = "new-york@lab.example";
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await StartAsync(smtp, database, clock, services => services.AddFakeLogging());
        await AddReaderAsync(app, Berlin, c => c with { Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Monday, TimeZone = "Europe/Berlin" });
        var newYork = await AddReaderAsync(app, NewYork, c => c with { Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Monday, TimeZone = "America/New_York" });
        await IngestAsync(app, new DateOnly(2025, 3, 11), SamplePapers(0, 2));
        // Monday 17 March, 13:00 UTC: 08:00 has passed in Berlin (07:00 UTC) and in New York (12:00 UTC).
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 13, 0, 0, TimeSpan.Zero));
        // The database refuses New York's week, as a lock timeout or a row it cannot take would.
        await app.ExecuteAsync($"alter table weekly_digests add constraint refuse_new_york check (subscriber_id <> {newYork.Id})");
        var job = app.Services.GetRequiredService<WeeklyDigestJob>();

        var failed = await Assert.ThrowsAnyAsync<Exception>(() => job.RunAsync(Ct));
        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from weekly_digests"));
        await Eventually.WaitAsync(async () => To(smtp, Berlin).Count == 1, "Berlin's week");

        // Hangfire's retry, once the database takes the week.
        await app.ExecuteAsync("alter table weekly_digests drop constraint refuse_new_york");
        await job.RunAsync(Ct);
        await Eventually.WaitAsync(async () => To(smtp, NewYork).Count == 1, "New York's week");

        AssertHolds(SamplePapers(0, 2), To(smtp, NewYork)[0]);
        Assert.Single(To(smtp, Berlin));
        Assert.Contains("2025-03-17 12:00:00Z", failed.Message, StringComparison.Ordinal);
        Assert.Contains(app.Services.GetFakeLogCollector().GetSnapshot(), log => log.Level == LogLevel.Error
            && log.Category == typeof(WeeklyDigestJob).FullName && log.Exception is Npgsql.PostgresException { ConstraintName: "refuse_new_york" });
    }

    [Fact]
    public async Task WeeklyRun_WeekBeyondTheSizeLimit_BestPapersInTheMailAndEveryPaperInTheWebCopy()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await StartAsync(smtp, database, clock);
        await AddReaderAsync(app, Weekly, c => c with { Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Saturday });
        // Forty-five long abstracts in three listings: more than one mail holds.
        foreach (var (day, from) in new[] { (11, 0), (12, 15), (13, 30) })
        {
            clock.SetUtcNow(new DateTimeOffset(2025, 3, day, 15, 0, 0, TimeSpan.Zero));
            await IngestAsync(app, new DateOnly(2025, 3, day), SamplePapers(from, 15));
        }
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 15, 9, 0, 0, TimeSpan.Zero));

        await app.Services.GetRequiredService<WeeklyDigestJob>().RunAsync(Ct);
        var digest = (await smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0].Parse();
        var inMail = DigestReader.Titles(digest);
        using var client = app.CreateClient();
        var webCopy = System.Net.WebUtility.HtmlDecode(await client.GetStringAsync(app.LinkIn(digest.TextBody ?? "", "digest/"), Ct));

        var week = Titles(SamplePapers(0, 45));
        Assert.Equal(45, week.Distinct(StringComparer.Ordinal).Count());
        Assert.InRange(inMail.Count, 1, 44);
        Assert.Subset(week.ToHashSet(StringComparer.Ordinal), inMail.ToHashSet(StringComparer.Ordinal));
        Assert.Contains("in the web copy", digest.TextBody, StringComparison.OrdinalIgnoreCase);
        Assert.All(week, title => Assert.Contains(title, DigestReader.Normalized(webCopy), StringComparison.Ordinal));
        Assert.Equal("45 papers for you this week (15 Mar 2025)", digest.Subject);
    }

    [Fact]
    public async Task WeeklyDigest_Preheader_CountsThePapersOfTheWeekNotOfToday()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await StartAsync(smtp, database, clock);

        var digest = await SendASaturdayReadersWeekAsync(app, smtp, clock);

        // The line an inbox shows under the subject.
        Assert.Equal("6 papers matched your interests this week.", Preheader(digest));
    }

    [Fact]
    public async Task WeeklyDigest_WebCopy_HeadedByTheWeekAndCountingItsPapers()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 11, 15, 0, 0, TimeSpan.Zero));
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await StartAsync(smtp, database, clock);
        var digest = await SendASaturdayReadersWeekAsync(app, smtp, clock);

        using var client = app.CreateClient();
        var page = await client.GetStringAsync(app.LinkIn(digest.TextBody ?? "", "digest/"), Ct);

        // As the mail is headed: the week, not the last listing of it (Thursday's, of three papers).
        Assert.Equal("Your week of trending papers", PageText(page, "h1"));
        Assert.Equal("Saturday, 15 March 2025 · 6 papers of the week matched your interests. The week's listings: 11 Mar, 13 Mar.",
            PageText(page, "p class=\"meta\""));
        // Each listing of the week is one click away, as a daily copy's "See the whole issue" is.
        var issues = await app.ScalarAsync<long[]>("select array_agg(id order by issue_date) from issues");
        Assert.All(issues, id => Assert.Contains($"href=\"/issues/{id}\"", page, StringComparison.Ordinal));
    }

    /// <summary>The text of the first element of a page that starts with <paramref name="start"/> ("h1", "p class=...").</summary>
    private static string PageText(string page, string start)
    {
        var element = System.Text.RegularExpressions.Regex.Match(page, $@"<{start}[^>]*>(.*?)</{start.Split(' ')[0]}>", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.True(element.Success, $"the page has no <{start}>");
        return DigestReader.Normalized(System.Net.WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Replace(element.Groups[1].Value, "<[^>]+>", "")));
    }

    /// <summary>
    /// The digest of a reader of Saturday's weekly digest (at the server's hour, UTC) for a week of two listings of three
    /// papers each, on Tuesday 11 and Thursday 13 March 2025.
    /// </summary>
    private static async Task<MimeKit.MimeMessage> SendASaturdayReadersWeekAsync(TestApp app, SmtpCapture smtp, FakeTimeProvider clock)
    {
        await AddReaderAsync(app, Weekly, c => c with { Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Saturday });
        foreach (var (day, from) in new[] { (11, 0), (13, 3) })
        {
            clock.SetUtcNow(new DateTimeOffset(2025, 3, day, 15, 0, 0, TimeSpan.Zero));
            await IngestAsync(app, new DateOnly(2025, 3, day), SamplePapers(from, 3));
        }
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 15, 9, 0, 0, TimeSpan.Zero));
        await app.Services.GetRequiredService<WeeklyDigestJob>().RunAsync(Ct);
        return (await smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0].Parse();
    }

    /// <summary>The hidden first line of the HTML part, which inboxes show after the subject.</summary>
    private static string Preheader(MimeKit.MimeMessage digest) =>
        System.Net.WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(digest.HtmlBody ?? "", @"<body[^>]*>\s*<div[^>]*>([^<]*)</div>").Groups[1].Value);

    /// <summary>
    /// A reader of Monday's weekly digest (UTC; repeats allowed, so only the schedule keeps days already sent out of a
    /// week) who has been sent Monday 17 March's, holding the listing of <paramref name="listingDay"/> (at 15:00).
    /// </summary>
    private static async Task<Subscriber> SendAMondayReadersFirstDigestAsync(TestApp app, SmtpCapture smtp, FakeTimeProvider clock, DateOnly listingDay)
    {
        var reader = await AddReaderAsync(app, Weekly, c => c with { Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Monday, TimeZone = "UTC", NoRepeats = false });
        clock.SetUtcNow(new DateTimeOffset(listingDay.ToDateTime(new TimeOnly(15, 0)), TimeSpan.Zero));
        await IngestAsync(app, listingDay, SamplePapers(0, 2));
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 8, 0, 0, TimeSpan.Zero));
        await app.Services.GetRequiredService<WeeklyDigestJob>().RunAsync(Ct);
        await Eventually.WaitAsync(async () => To(smtp, Weekly).Count == 1, "Monday's digest");
        return reader;
    }

    /// <summary>
    /// A Monday reader sent two digests named 17 March: at 08:00 UTC the one holding the listing of the 11th, then, having
    /// moved to New York at 10:00, at 08:00 there (12:00 UTC) the one holding the listing of 09:00 that day.
    /// </summary>
    private static async Task<Subscriber> SendTwoDigestsOnOneMondayAsync(TestApp app, SmtpCapture smtp, FakeTimeProvider clock)
    {
        var reader = await SendAMondayReadersFirstDigestAsync(app, smtp, clock, new DateOnly(2025, 3, 11));
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 9, 0, 0, TimeSpan.Zero));
        await IngestAsync(app, new DateOnly(2025, 3, 17), SamplePapers(2, 2));
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 10, 0, 0, TimeSpan.Zero));
        await ChangeChoicesAsync(app, reader, c => c with { TimeZone = "America/New_York" });
        clock.SetUtcNow(new DateTimeOffset(2025, 3, 17, 12, 0, 0, TimeSpan.Zero));
        await app.Services.GetRequiredService<WeeklyDigestJob>().RunAsync(Ct);
        await Eventually.WaitAsync(async () => To(smtp, Weekly).Count == 2, "New York's Monday digest");
        return reader;
    }

    /// <summary>Changes a reader's choices as the manage page saves them.</summary>
    private static async Task ChangeChoicesAsync(TestApp app, Subscriber reader, Func<ReaderChoices, ReaderChoices> change)
    {
        var store = app.Services.GetRequiredService<SubscriberStore>();
        await store.UpdateChoicesAsync(reader.Id, change(await store.GetChoicesAsync(reader.Id, Ct)), Ct);
    }

    /// <summary>The digest's papers (outside its suggestions) are exactly these, in any order.</summary>
    private static void AssertHolds(IEnumerable<(string Title, string Abstract)> papers, MimeKit.MimeMessage digest) =>
        Assert.Equal(Titles(papers).Order(StringComparer.Ordinal), DigestReader.Titles(digest).Order(StringComparer.Ordinal));

    /// <summary>A digest's titles (or a listing's) in one line, in order, so a digest's papers compare as one value.</summary>
    private static string Listed(IEnumerable<string> titles) => string.Join(" | ", titles.Order(StringComparer.Ordinal));

    private static Task<TestApp> StartAsync(SmtpCapture smtp, TestDatabase database, FakeTimeProvider clock, Action<IServiceCollection>? services = null) =>
        TestApp.StartAsync(smtp: smtp, role: ProcessRole.All, connectionString: database.ConnectionString,
            services: s =>
            {
                s.AddSingleton<TimeProvider>(clock);
                services?.Invoke(s);
            });

    /// <summary>A listing of March <paramref name="day"/> at 15:00, once its daily fan-out has settled its one ledger row.</summary>
    private static async Task<long> IngestDailyAsync(TestApp app, FakeTimeProvider clock, int day, IEnumerable<(string Title, string Abstract)> papers)
    {
        clock.SetUtcNow(new DateTimeOffset(2025, 3, day, 15, 0, 0, TimeSpan.Zero));
        var issue = await IngestAsync(app, new DateOnly(2025, 3, day), papers);
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(issue, expectedRows: 1), $"the daily digest of {day} March");
        return issue;
    }
}
