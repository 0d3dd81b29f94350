using System.ComponentModel;
using System.Globalization;
using Hangfire;
using Microsoft.Extensions.Options;
using Newsletter.Database;
using Newsletter.Papers;
using Npgsql;

namespace Newsletter.Digests;

/// <summary>
/// Writes the weekly digests that are due: every few minutes it finds the weekly readers whose weekday and hour (their
/// time) have passed since their last weekly digest, gathers the issues that arrived in their week, plans each
/// reader's digest as a daily one is planned (each paper once), and writes it as a generation of the week's latest
/// issue, which the send batches then deliver like any other. The database is the arbiter of "once a week":
/// <c>weekly_digests</c> has one row per week sent to a reader (two can share a date), with where that week ended,
/// written in the transaction that writes the delivery rows, and one run at a time holds a transaction lock; so a second
/// run, a restart or another worker sends nothing again, and a reader's next week starts where their last one ended.
/// </summary>
public sealed class WeeklyDigestJob(
    NpgsqlDataSource db,
    PaperStore papers,
    DeliveryLedger ledger,
    DigestPlanner planner,
    IBackgroundJobClient jobs,
    IOptions<DeliveryOptions> options,
    TimeProvider clock,
    ILogger<WeeklyDigestJob> logger)
{
    public const string RecurringJobId = "weekly-digests";

    /// <summary>
    /// Writes every week that is due and queues their send batches. A week that cannot be written is logged and left due,
    /// and the run then fails, so Hangfire retries it (as does the next scheduled run); the weeks written are kept and sent.
    /// </summary>
    [AutomaticRetry(Attempts = 3)]
    [DisplayName("Write the weekly digests that are due")]
    public async Task RunAsync(CancellationToken ct)
    {
        var (written, failed) = await WriteDueAsync(ct);
        foreach (var (issueId, generation) in written)
        {
            await SendBatchJob.QueueOpenBatchesAsync(jobs, ledger, issueId, generation, options.Value.BatchSize, ct);
        }
        if (failed.Count > 0)
        {
            var weeks = string.Join(", ", failed.Select(f => $"{f.Week.WeekOf:yyyy-MM-dd} due {f.Week.Due.ToString("u", CultureInfo.InvariantCulture)}"));
            throw new InvalidOperationException(
                $"The weekly digests of {failed.Count} week(s) could not be written ({weeks}); the other weeks of this run were written, and these stay due.",
                failed[0].Error);
        }
    }

    /// <summary>
    /// Plans and writes every week that is due, each under a savepoint of the run's transaction, so one that fails is undone
    /// alone; returns the generations written, whose batches are then queued, and the weeks that failed.
    /// </summary>
    private async Task<(List<(long IssueId, int Generation)> Written, List<(WeeklySlot Week, Exception Error)> Failed)> WriteDueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var written = new List<(long, int)>();
        var failed = new List<(WeeklySlot, Exception)>();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var take = new NpgsqlCommand("select pg_try_advisory_xact_lock(@key)", connection, transaction))
        {
            take.Parameters.AddWithValue("key", AdvisoryLocks.Key(LockSpace.WeeklyDigests));
            if (await take.ExecuteScalarAsync(ct) is not true)
            {
                logger.LogInformation("Weekly digests are being written by another run");
                return (written, failed);
            }
        }

        var (due, turnedDaily) = await DueAsync(connection, transaction, now, ct);
        foreach (var week in due.GroupBy(d => d.Slot, d => d.Reader))
        {
            await transaction.SaveAsync(WeekSavepoint, ct);
            try
            {
                if (await WriteWeekAsync(connection, transaction, week.Key, [.. week], turnedDaily, now, ct) is { } generation)
                {
                    written.Add(generation);
                }
                await transaction.ReleaseAsync(WeekSavepoint, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await transaction.RollbackAsync(WeekSavepoint, ct);
                foreach (var reader in week)
                {
                    // Their last week is not written: weekly_until stays, and the next run tries it again.
                    turnedDaily.Remove(reader.SubscriberId);
                }
                failed.Add((week.Key, ex));
                logger.LogError(ex, "Weekly digests of {WeekOf} due {Due} ({Readers} readers) could not be written; the run's other weeks are kept, and this one stays due",
                    week.Key.WeekOf, week.Key.Due, week.Count());
            }
        }
        if (turnedDaily.Count > 0)
        {
            // Their last week is written (or had no issue): done, unless they changed frequency again meanwhile.
            await using var done = new NpgsqlCommand(
                """
                update subscribers s set weekly_until = null
                from unnest(@ids, @untils) as t(id, until)
                where s.id = t.id and s.weekly_until = t.until
                """, connection, transaction);
            done.Parameters.AddWithValue("ids", turnedDaily.Keys.ToArray());
            done.Parameters.AddWithValue("untils", turnedDaily.Values.ToArray());
            await done.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return (written, failed);
    }

    private const string WeekSavepoint = "week";

    /// <summary>
    /// Plans and writes one week's digests in the run's transaction: the generation written, or null when the week has no
    /// issue or waits for an issue's fan-out.
    /// </summary>
    private async Task<(long IssueId, int Generation)?> WriteWeekAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, WeeklySlot week,
        IReadOnlyList<PlanRecipient> readers, Dictionary<long, DateTimeOffset> turnedDaily, DateTimeOffset now, CancellationToken ct)
    {
        var issueIds = await IssuesOfAsync(connection, transaction, week, ct);
        if (issueIds.Length == 0)
        {
            return null; // No issue arrived that week: nothing to send, and the next run finds the same.
        }
        if (readers.Any(r => turnedDaily.ContainsKey(r.SubscriberId)) && await AwaitingFanOutAsync(connection, transaction, issueIds, ct))
        {
            // An issue's fan-out leaves it to their last week by weekly_until, so that stays until the fan-out has run.
            foreach (var reader in readers)
            {
                turnedDaily.Remove(reader.SubscriberId);
            }
            return null;
        }
        var anchor = issueIds[^1];
        var generation = await NextGenerationAsync(connection, transaction, anchor, ct);
        await DeliveryGenerations.InsertAsync(connection, transaction, anchor, generation, GenerationScope.Weekly, null, "weekly",
            now, ct, issueIds);
        var plans = await planner.PlanAsync(await papers.GetPapersOfIssuesAsync(issueIds, ct), readers, null, null, week.WeekOf, null, ct);
        var rows = await DeliveryLedger.CopyRowsAsync(connection, anchor, generation,
            await DeliveryLedger.WithoutErasedAsync(connection, transaction, [.. readers.Select(r => r.SubscriberId)], plans.ToAsyncEnumerable(), ct), now, ct);
        await using (var record = new NpgsqlCommand(
            """
            insert into weekly_digests (subscriber_id, week_of, issue_id, generation, ends_at)
            select subscriber_id, week_of, issue_id, generation, @ends from deliveries where issue_id = @issue and generation = @generation;
            update delivery_generations set fanned_out_at = @now where issue_id = @issue and generation = @generation;
            """, connection, transaction))
        {
            record.Parameters.AddWithValue("issue", anchor);
            record.Parameters.AddWithValue("generation", generation);
            record.Parameters.AddWithValue("ends", week.Due);
            record.Parameters.AddWithValue("now", clock.GetUtcNow());
            await record.ExecuteNonQueryAsync(ct);
        }
        logger.LogInformation("Weekly digests of {WeekOf}: {Rows} readers, issues {IssueIds}, written as issue {IssueId} generation {Generation}",
            week.WeekOf, rows, issueIds, anchor, generation);
        return (anchor, generation);
    }

    /// <summary>
    /// Active weekly readers whose latest due time has passed since the last week they were sent ended, each with their
    /// week: from that end (at most a week back) up to the due time. A reader who turned weekly since that week began
    /// gets it from then on, and not at all if it was due before: they read the days before it daily. A reader who
    /// turned daily gets their last week cut short there (those readers are also returned by id, with when they turned).
    /// </summary>
    private async Task<(List<(PlanRecipient Reader, WeeklySlot Slot)> Due, Dictionary<long, DateTimeOffset> TurnedDaily)> DueAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, DateTimeOffset now, CancellationToken ct)
    {
        var hour = options.Value.WeeklyHour;
        var due = new List<(PlanRecipient, WeeklySlot)>();
        var turnedDaily = new Dictionary<long, DateTimeOffset>();
        await using var command = new NpgsqlCommand(
            """
            select s.id, s.interests, s.suggestions, s.no_repeats, s.weekday, s.time_zone,
                   (select max(w.ends_at) from weekly_digests w where w.subscriber_id = s.id), s.weekly_since, s.weekly_until
            from subscribers s
            where s.status = 'active' and (s.frequency = 'weekly' or s.weekly_until is not null)
            order by s.interests collate "C", s.id
            """, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var zone = Subscribers.ReaderChoices.ZoneOrServer(reader.IsDBNull(5) ? null : reader.GetString(5), clock.LocalTimeZone);
            var recipient = new PlanRecipient(reader.GetInt64(0), reader.GetString(1), reader.GetInt16(2), reader.GetBoolean(3));
            DateTimeOffset? lastEnded = reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6);
            DateTimeOffset? weeklySince = reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7);
            if (!reader.IsDBNull(8))
            {
                var until = reader.GetFieldValue<DateTimeOffset>(8);
                turnedDaily[recipient.SubscriberId] = until;
                due.Add((recipient, LastWeek(until, lastEnded, weeklySince, (DayOfWeek)reader.GetInt16(4), hour, zone)));
                continue;
            }
            if (NextWeek(now, lastEnded, weeklySince, (DayOfWeek)reader.GetInt16(4), hour, zone) is { } week)
            {
                due.Add((recipient, week));
            }
        }
        return (due, turnedDaily);
    }

    /// <summary>
    /// The week of a weekly reader due by <paramref name="now"/>, or null when their latest due time is not after the end of
    /// the last week they were sent (nor after they turned weekly). Compared as instants, not dates, so a new weekday or
    /// time zone neither repeats nor skips a day: the week starts where the last one ended.
    /// </summary>
    internal static WeeklySlot? NextWeek(DateTimeOffset now, DateTimeOffset? lastEnded, DateTimeOffset? weeklySince, DayOfWeek weekday, int hour, TimeZoneInfo zone)
    {
        var slot = WeeklySchedule.LatestDue(now, weekday, hour, zone);
        if (lastEnded >= slot.Due || weeklySince >= slot.Due)
        {
            return null;
        }
        return slot with { PreviousDue = Start(slot.PreviousDue, lastEnded, weeklySince) };
    }

    /// <summary>
    /// The week of a reader who turned daily at <paramref name="until"/>: from the end of the last week they were sent (or
    /// the start of the week due before the turn, when that one was not yet written; or when they turned weekly, if later)
    /// up to the turn, named by the local date of the turn.
    /// </summary>
    internal static WeeklySlot LastWeek(DateTimeOffset until, DateTimeOffset? lastEnded, DateTimeOffset? weeklySince, DayOfWeek weekday, int hour, TimeZoneInfo zone)
    {
        var before = WeeklySchedule.LatestDue(until, weekday, hour, zone);
        return new WeeklySlot(DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(until, zone).DateTime), Start(before.PreviousDue, lastEnded, weeklySince), until);
    }

    /// <summary>Where a week starts: the latest of a week before its due time, the end of the last week sent, and the turn to weekly.</summary>
    private static DateTimeOffset Start(DateTimeOffset weekBefore, DateTimeOffset? lastEnded, DateTimeOffset? weeklySince)
    {
        var from = lastEnded > weekBefore ? lastEnded.Value : weekBefore;
        // An issue stored in the same microsecond as the switch counts as after it.
        return weeklySince?.AddTicks(-TimeSpan.TicksPerMicrosecond) is { } since && since > from ? since : from;
    }

    /// <summary>The issues that arrived in a week, oldest first.</summary>
    private static async Task<long[]> IssuesOfAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, WeeklySlot week, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "select coalesce(array_agg(id order by id), '{}') from issues where created_at > @from and created_at <= @to",
            connection, transaction);
        command.Parameters.AddWithValue("from", week.PreviousDue);
        command.Parameters.AddWithValue("to", week.Due);
        return (long[])(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Whether the first fan-out of one of the issues has yet to run.</summary>
    private static async Task<bool> AwaitingFanOutAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long[] issueIds, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "select exists (select from delivery_generations where issue_id = any(@issues) and generation = 1 and fanned_out_at is null)",
            connection, transaction);
        command.Parameters.AddWithValue("issues", issueIds);
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    private static async Task<int> NextGenerationAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long issueId, CancellationToken ct)
    {
        // Locking the issue row serialises this with a re-send of the same issue, so max + 1 is never taken twice.
        await using var command = new NpgsqlCommand(
            """
            select id from issues where id = @issue for update;
            select coalesce(max(generation), 0) + 1 from delivery_generations where issue_id = @issue;
            """, connection, transaction);
        command.Parameters.AddWithValue("issue", issueId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct);
        await reader.ReadAsync(ct);
        return reader.GetInt32(0);
    }
}
