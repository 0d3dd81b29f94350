using Microsoft.Extensions.DependencyInjection;
using Newsletter.Database;
using Newsletter.Subscribers;
using Npgsql;
using NpgsqlTypes;

namespace Newsletter.Digests;

/// <summary>Where a delivery row stands: pending, then sent, deferred (retried later) or failed; skipped when nothing matched.</summary>
public enum DeliveryStatus
{
    Pending,
    Sending,
    Sent,
    Deferred,
    Failed,
    Skipped,
}

/// <summary>
/// One subscriber's row of a fan-out: what they get, or that they get nothing (skipped). <see cref="PaperIds"/> is the
/// mail's papers in order, keyword matches then suggestions; <see cref="Reasons"/> says, per paper, why the profile
/// put it there ("" for a keyword match); <see cref="HiddenIds"/> are matches left for the web copy.
/// </summary>
public sealed record DeliveryPlan(long SubscriberId, long[] PaperIds, float Score, string? Note)
{
    public long[] SuggestedIds { get; init; } = [];

    public long[] HiddenIds { get; init; } = [];

    public string[] Reasons { get; init; } = [];

    /// <summary>The reader's date a weekly digest is for; null for a daily one.</summary>
    public DateOnly? WeekOf { get; init; }
}

/// <summary>A delivery to send with everything needed to render it, its personal links signed.</summary>
public sealed record DeliveryWork(
    long Id, long SubscriberId, string Email, string Interests, DigestFormat Format, long[] PaperIds, int Attempts,
    DateTimeOffset CreatedAt, DeliveryTokens Tokens)
{
    /// <summary>What relevance decided at the fan-out (see <see cref="DeliveryPlan"/>).</summary>
    public DeliveryRelevance Relevance { get; init; } = DeliveryRelevance.None;

    /// <summary>The reader's date a weekly digest is for; null for a daily one.</summary>
    public DateOnly? WeekOf { get; init; }
}

/// <summary>The suggestions among a delivery's papers, how many matches went to the web copy, and why each paper is there.</summary>
public sealed record DeliveryRelevance(long[] SuggestedIds, int HiddenCount, string[] Reasons)
{
    public static DeliveryRelevance None { get; } = new([], 0, []);

    public string? ReasonFor(int position) => position < Reasons.Length && Reasons[position].Length > 0 ? Reasons[position] : null;
}

/// <summary>
/// The delivery ledger, the source of truth for who got what. Hangfire runs a job at least once; the ledger makes a
/// digest go out at most once outside one window: a crash after the server's 250 and before our commit.
/// </summary>
public sealed class DeliveryLedger(
    NpgsqlDataSource db,
    [FromKeyedServices(DatabaseServices.AsyncCommit)] NpgsqlDataSource asyncCommit,
    DigestLinkKeyStore digestLinks,
    TimeProvider clock,
    ILogger<DeliveryLedger> logger)
{
    /// <summary>
    /// Writes every row of a generation in one transaction (binary COPY) and marks it fanned out, so a fan-out
    /// that dies half-way leaves nothing behind and a second run finds the work done.
    /// </summary>
    /// <param name="subscriberIds">Every reader <paramref name="plans"/> is for: those erased while it was planned are left out.</param>
    /// <returns>False when another run already fanned this generation out.</returns>
    public async Task<bool> WritePlanAsync(long issueId, int generation, IReadOnlyCollection<long> subscriberIds, IAsyncEnumerable<DeliveryPlan> plans,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(subscriberIds);
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var check = new NpgsqlCommand(
            "select fanned_out_at is not null from delivery_generations where issue_id = @issue and generation = @generation for update",
            connection, transaction))
        {
            check.Parameters.AddWithValue("issue", issueId);
            check.Parameters.AddWithValue("generation", generation);
            if (await check.ExecuteScalarAsync(ct) is not false)
            {
                return false;
            }
        }

        var written = await CopyRowsAsync(connection, issueId, generation, await WithoutErasedAsync(connection, transaction, subscriberIds, plans, ct), now, ct);

        await using (var done = new NpgsqlCommand(
            "update delivery_generations set fanned_out_at = @now where issue_id = @issue and generation = @generation",
            connection, transaction))
        {
            // When the plan was complete, not when it was started: admins read the difference as the fan-out's duration.
            done.Parameters.AddWithValue("now", clock.GetUtcNow());
            done.Parameters.AddWithValue("issue", issueId);
            done.Parameters.AddWithValue("generation", generation);
            await done.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);

        if (written >= AnalyzeAfterRows)
        {
            // Statistics now, not when autovacuum next looks (up to a minute later): without them the planner reads each
            // send batch's rows through the (issue, subscriber, generation) index, i.e. every row of the issue, once per
            // batch. With 30,000 subscribers that was 40-80 ms per batch query instead of 1-3 ms (tests/bench.sh fan-out
            // with BENCH_PG_DIAGNOSTICS=1).
            // The plan is committed: a failure here must not fail the fan-out (its batches would wait for a retry).
            try
            {
                await using var analyze = new NpgsqlCommand("analyze deliveries", connection);
                await analyze.ExecuteNonQueryAsync(ct);
            }
            catch (NpgsqlException ex) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning(ex, "ANALYZE of the delivery ledger after issue {IssueId} generation {Generation} failed; autovacuum will do it later",
                    issueId, generation);
            }
        }
        return true;
    }

    /// <summary>
    /// The plans but those of readers erased since the plan read them: their rows would refer to nobody and fail the whole
    /// generation, so everyone else's digest would wait for a retry.
    /// </summary>
    internal static async Task<IAsyncEnumerable<DeliveryPlan>> WithoutErasedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IReadOnlyCollection<long> subscriberIds, IAsyncEnumerable<DeliveryPlan> plans, CancellationToken ct)
    {
        var gone = new HashSet<long>();
        await using (var erased = new NpgsqlCommand(
            "select r.id from unnest(@ids) r(id) where not exists (select 1 from subscribers s where s.id = r.id)", connection, transaction))
        {
            erased.Parameters.AddWithValue("ids", subscriberIds.ToArray());
            await using var reader = await erased.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                gone.Add(reader.GetInt64(0));
            }
        }
        return gone.Count == 0 ? plans : plans.Where(p => !gone.Contains(p.SubscriberId));
    }

    /// <summary>Writes a generation's rows (binary COPY) on the caller's connection, in its transaction; returns how many.</summary>
    internal static async Task<int> CopyRowsAsync(NpgsqlConnection connection, long issueId, int generation, IAsyncEnumerable<DeliveryPlan> plans,
        DateTimeOffset now, CancellationToken ct)
    {
        var written = 0;
        await using (var writer = await connection.BeginBinaryImportAsync(
            "copy deliveries (issue_id, subscriber_id, generation, status, paper_ids, score, error, created_at, updated_at, suggested_ids, hidden_ids, reasons, week_of) from stdin (format binary)", ct))
        {
            await foreach (var plan in plans.WithCancellation(ct))
            {
                written++;
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(issueId, NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(plan.SubscriberId, NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(generation, NpgsqlDbType.Integer, ct);
                await writer.WriteAsync(DbNames.ToDb(plan.PaperIds.Length == 0 ? DeliveryStatus.Skipped : DeliveryStatus.Pending), NpgsqlDbType.Text, ct);
                await writer.WriteAsync(plan.PaperIds, NpgsqlDbType.Array | NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(plan.Score, NpgsqlDbType.Real, ct);
                if (plan.Note is null)
                {
                    await writer.WriteNullAsync(ct);
                }
                else
                {
                    await writer.WriteAsync(plan.Note, NpgsqlDbType.Text, ct);
                }
                await writer.WriteAsync(now, NpgsqlDbType.TimestampTz, ct);
                await writer.WriteAsync(now, NpgsqlDbType.TimestampTz, ct);
                await writer.WriteAsync(plan.SuggestedIds, NpgsqlDbType.Array | NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(plan.HiddenIds, NpgsqlDbType.Array | NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(plan.Reasons, NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
                if (plan.WeekOf is { } week)
                {
                    await writer.WriteAsync(week, NpgsqlDbType.Date, ct);
                }
                else
                {
                    await writer.WriteNullAsync(ct);
                }
            }
            await writer.CompleteAsync(ct);
        }

        return written;
    }

    /// <summary>A generation at least this big is worth an ANALYZE of the ledger once it is written.</summary>
    private const int AnalyzeAfterRows = 1_000;

    /// <summary>
    /// The id ranges of a generation's batches that still have open rows. A batch is the generation's rows in one span of
    /// <paramref name="batchSize"/> ids from its first row, sent or not, so a range (and the lease keyed by its first id)
    /// is the same however often it is asked for: a batch queued again while it sends cannot be leased twice.
    /// </summary>
    public async Task<IReadOnlyList<(long From, long To)>> OpenBatchesAsync(long issueId, int generation, int batchSize, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select min(d.id), max(d.id)
            from deliveries d
            cross join (select min(id) as id from deliveries where issue_id = @issue and generation = @generation) first
            where d.issue_id = @issue and d.generation = @generation
            group by (d.id - first.id) / @size
            having bool_or(d.status in ('pending', 'sending', 'deferred'))
            order by 1
            """);
        command.Parameters.AddWithValue("issue", issueId);
        command.Parameters.AddWithValue("generation", generation);
        command.Parameters.AddWithValue("size", (long)batchSize);
        var batches = new List<(long, long)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            batches.Add((reader.GetInt64(0), reader.GetInt64(1)));
        }
        return batches;
    }

    /// <summary>
    /// Holds a batch for as long as the returned lease lives; the lease also records the batch's outcomes, as
    /// <paramref name="worker"/>, each as it comes. The lock is a session advisory lock: when a worker dies its connection
    /// closes and the batch is free at once, for Hangfire's re-run to pick up.
    /// </summary>
    public async Task<BatchLease?> TryLeaseBatchAsync(long firstDeliveryId, string worker, CancellationToken ct)
    {
        // Outcome updates do not wait for the disk flush (asyncCommit has synchronous_commit off): losing the last
        // fraction of a second of them to a database crash means a repeated digest, never a lost one.
        var connection = await asyncCommit.OpenConnectionAsync(ct);
        try
        {
            if (await AdvisoryLocks.TryTakeAsync(connection, LockSpace.SendBatch, firstDeliveryId, ct))
            {
                return new BatchLease(asyncCommit, connection, firstDeliveryId, worker, clock, logger);
            }
        }
        catch
        {
            // The server may have granted the lock before the failure: its session must end, not wait in the pool.
            await BatchLease.DiscardAsync(asyncCommit, connection);
            throw;
        }
        await connection.DisposeAsync();
        return null;
    }

    /// <summary>
    /// Reads the rows of a leased batch that still need sending (pending, due deferred, and any an earlier release left
    /// marked 'sending') and signs their personal links. The lease is the claim: a row gets its worker when its outcome is
    /// recorded (<see cref="BatchLease.RecordAsync"/>), so reading a batch writes no row versions. Marking all of them here cost
    /// PostgreSQL a new version of every row, with its index entries, once more per digest.
    /// </summary>
    public async Task<IReadOnlyList<DeliveryWork>> ReadBatchAsync(long issueId, int generation, long fromId, long toId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var rows = new List<(long Id, long SubscriberId, string Email, string Interests, DigestFormat Format, long[] PaperIds, int Attempts, DateTimeOffset CreatedAt, DeliveryRelevance Relevance, DateOnly? WeekOf)>();
        // The subscriber of each row is looked up by its key (lateral, limit 1): a plain join lets the planner hash the
        // whole subscribers table for a batch of a few hundred rows, 20 ms at 30,000 subscribers against 3 ms.
        var stopped = new HashSet<long>();
        var superseded = new HashSet<long>();
        await using (var command = db.CreateCommand(
            $"""
            select d.id, d.subscriber_id, s.email, s.interests, s.format, d.paper_ids, d.attempts, d.created_at,
                   {StillWanted},
                   d.suggested_ids, cardinality(d.hidden_ids), d.reasons, d.week_of,
                   d.status = 'deferred' and (exists (
                       select 1 from deliveries later
                       join delivery_generations lg on lg.issue_id = later.issue_id and lg.generation = later.generation
                       where later.issue_id = d.issue_id and later.subscriber_id = d.subscriber_id and later.generation > d.generation
                         and lg.scope <> 'weekly')
                     or exists (
                       select 1 from delivery_generations coming
                       where coming.issue_id = d.issue_id and coming.generation > d.generation and coming.fanned_out_at is null
                         and (coming.scope in ('all', 'failed') or (coming.scope = 'one' and coming.subscriber_id = d.subscriber_id))))
            from deliveries d
            join delivery_generations g on g.issue_id = d.issue_id and g.generation = d.generation
            cross join lateral (select email, interests, format, status from subscribers where id = d.subscriber_id limit 1) s
            where d.issue_id = @issue and d.generation = @generation and d.id between @from and @to
              and (d.status in ('pending', 'sending') or (d.status = 'deferred' and d.next_attempt_at <= @now))
            order by d.id
            """))
        {
            command.Parameters.AddWithValue("now", now);
            command.Parameters.AddWithValue("issue", issueId);
            command.Parameters.AddWithValue("generation", generation);
            command.Parameters.AddWithValue("from", fromId);
            command.Parameters.AddWithValue("to", toId);
            // Disposed once, here. Npgsql reuses one reader object per pooled connection: a second dispose after the
            // connection went back to the pool closes whatever another caller is reading on it.
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                rows.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), DbNames.Parse<DigestFormat>(reader.GetString(4)),
                    reader.GetFieldValue<long[]>(5), reader.GetInt32(6), reader.GetFieldValue<DateTimeOffset>(7),
                    new DeliveryRelevance(reader.GetFieldValue<long[]>(9), reader.GetInt32(10), reader.GetFieldValue<string[]>(11)),
                    reader.IsDBNull(12) ? null : reader.GetFieldValue<DateOnly>(12)));
                if (!reader.GetBoolean(8))
                {
                    stopped.Add(reader.GetInt64(0));
                }
                else if (reader.GetBoolean(13))
                {
                    // A retry due after a re-send of the issue reached this reader, or will reach them once it is fanned out
                    // ("all", "failed", which counts this row as failed, or "one" to them): sending it too would be a second
                    // copy, even when that fan-out has already read who it reaches. (A weekly digest anchored on the issue is
                    // no re-send: it left this row's papers out as on their way.)
                    superseded.Add(reader.GetInt64(0));
                }
            }
        }
        // Paused or unsubscribed since the fan-out, or covered by a re-send: they get nothing, and the ledger says why.
        foreach (var (ids, reason) in new[] { (stopped, StoppedReason), (superseded, SupersededReason) })
        {
            if (ids.Count > 0)
            {
                await SkipAsync(ids, reason, ct);
                rows.RemoveAll(r => ids.Contains(r.Id));
            }
        }

        // Links are signed, not stored (DigestLinkKeys): minting them writes nothing. Storing three token rows per digest
        // was PostgreSQL's largest cost of a send, 4.2 of 11 s at 30,000 subscribers.
        var keys = await digestLinks.GetKeysAsync(ct);
        return rows.ConvertAll(row => new DeliveryWork(row.Id, row.SubscriberId, row.Email, row.Interests, row.Format, row.PaperIds,
            row.Attempts, row.CreatedAt, keys.Mint(row.Id)) { Relevance = row.Relevance, WeekOf = row.WeekOf });
    }

    /// <summary>
    /// Skips the rows among <paramref name="deliveryIds"/> whose reader has unsubscribed or paused since their batch was read
    /// (as <see cref="ReadBatchAsync"/> would), and returns them with the rows gone since (an erased reader's, by cascade):
    /// a batch under a rate limit sends for minutes.
    /// </summary>
    public async Task<IReadOnlySet<long>> SkipStoppedAsync(IReadOnlyCollection<long> deliveryIds, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            $"""
            with stopped as (
                update deliveries d set status = 'skipped', error = @reason, updated_at = @now
                from delivery_generations g, subscribers s
                where d.id = any(@ids) and d.status in ('pending', 'sending', 'deferred')
                  and g.issue_id = d.issue_id and g.generation = d.generation and s.id = d.subscriber_id
                  and not ({StillWanted})
                returning d.id)
            select id from stopped
            union all
            select gone.id from unnest(@ids) gone(id) where not exists (select 1 from deliveries d where d.id = gone.id)
            """);
        command.Parameters.AddWithValue("reason", StoppedReason);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("ids", deliveryIds.ToArray());
        var stopped = new HashSet<long>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            stopped.Add(reader.GetInt64(0));
        }
        return stopped;
    }

    private const string StoppedReason = "the subscriber is no longer active";

    /// <summary>The error of a retry skipped for a re-send: a "failed" re-send still counts that row as not delivered.</summary>
    internal const string SupersededReason = "superseded by a later re-send of this issue";

    /// <summary>SQL over subscriber <c>s</c> and generation <c>g</c>: the reader still gets this digest (an admin's re-send to one
    /// reader reaches them while paused, as it was planned to).</summary>
    private const string StillWanted = "s.status = 'active' or (s.status = 'paused' and g.scope = 'one')";

    public async Task SkipAsync(IReadOnlyCollection<long> deliveryIds, string reason, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "update deliveries set status = 'skipped', error = @reason, updated_at = @now where id = any(@ids)");
        command.Parameters.AddWithValue("reason", reason);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("ids", deliveryIds.ToArray());
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>When the next deferred row of a batch is due, if any.</summary>
    public async Task<DateTimeOffset?> NextDeferredAsync(long issueId, int generation, long fromId, long toId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select min(next_attempt_at) from deliveries
            where issue_id = @issue and generation = @generation and id between @from and @to and status = 'deferred'
            """);
        command.Parameters.AddWithValue("issue", issueId);
        command.Parameters.AddWithValue("generation", generation);
        command.Parameters.AddWithValue("from", fromId);
        command.Parameters.AddWithValue("to", toId);
        return await command.ExecuteScalarAsync(ct) is DateTime due ? new DateTimeOffset(due, TimeSpan.Zero) : null;
    }
}

public sealed record RecordedOutcome(long DeliveryId, DeliveryStatus Status, string? Reply, string? Error, DateTimeOffset? NextAttemptAt, long? BounceSubscriberId);

/// <summary>
/// A leased send batch: its connection holds the advisory lock and records the batch's outcomes, so recording costs no
/// pooled connection per digest. Each outcome is written as soon as the server has answered; a sent one is written
/// while the next digest is rendered, and the batch waits for that write (<see cref="WrittenAsync"/>) before the next
/// digest goes out. So a worker killed mid-send repeats at most the one digest per connection whose 250 came last.
/// </summary>
public sealed class BatchLease : IAsyncDisposable
{
    private readonly NpgsqlDataSource _pool;
    private readonly NpgsqlConnection _connection;
    private readonly long _key;
    private readonly string _worker;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private Task _writing = Task.CompletedTask;

    internal BatchLease(NpgsqlDataSource pool, NpgsqlConnection connection, long key, string worker, TimeProvider clock, ILogger logger)
    {
        _pool = pool;
        _connection = connection;
        _key = key;
        _worker = worker;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>
    /// Records what the server said about one digest. A digest goes out before its row says so: a row still pending (or
    /// deferred, or 'sending' from before) is sent again by the next run, so a crash before the outcome is written repeats
    /// that digest, and never loses one. A sent outcome's update is started here and finished by <see cref="WrittenAsync"/>;
    /// any other outcome is written before this returns.
    /// </summary>
    public async Task RecordAsync(RecordedOutcome outcome, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        // One command at a time on the connection: the previous outcome's update first.
        await WrittenAsync();
        var now = _clock.GetUtcNow();
        if (outcome is { Status: DeliveryStatus.Sent, BounceSubscriberId: null })
        {
            _writing = WriteSentAsync(outcome.DeliveryId, Bounded(outcome.Reply), now);
            return;
        }

        await using var batch = new NpgsqlBatch(_connection);
        var record = new NpgsqlBatchCommand(
            """
            update deliveries set status = @status, smtp_reply = @reply, error = @error, attempts = attempts + 1,
                next_attempt_at = @next, sent_at = case when @status = 'sent' then @now end, updated_at = @now,
                claimed_by = @worker
            where id = @id
            """);
        record.Parameters.AddWithValue("status", DbNames.ToDb(outcome.Status));
        record.Parameters.AddWithValue("reply", (object?)Bounded(outcome.Reply) ?? DBNull.Value);
        record.Parameters.AddWithValue("error", (object?)Bounded(outcome.Error) ?? DBNull.Value);
        record.Parameters.Add(new NpgsqlParameter<DateTimeOffset?>("next", outcome.NextAttemptAt));
        record.Parameters.AddWithValue("now", now);
        record.Parameters.AddWithValue("worker", _worker);
        record.Parameters.AddWithValue("id", outcome.DeliveryId);
        batch.BatchCommands.Add(record);
        if (outcome.BounceSubscriberId is { } bounced)
        {
            batch.BatchCommands.Add(SubscriberStore.MarkBouncedCommand(bounced, Bounded(outcome.Reply) ?? "bounced", now));
        }
        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Completes when every recorded outcome is in the ledger; throws if the last update failed (its digest is still
    /// pending and goes out again with the batch's next run). The batch calls it before each send.
    /// </summary>
    public Task WrittenAsync() => _writing;

    // Never cancelled: the server has taken the digest, and an unwritten 250 is a repeated digest.
    private async Task WriteSentAsync(long deliveryId, string? reply, DateTimeOffset sentAt)
    {
        await using var command = new NpgsqlCommand(
            """
            update deliveries set status = 'sent', smtp_reply = @reply, error = null, attempts = attempts + 1,
                next_attempt_at = null, sent_at = @sent_at, updated_at = @sent_at, claimed_by = @worker
            where id = @id
            """, _connection);
        command.Parameters.Add(new NpgsqlParameter<string?>("reply", reply));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("sent_at", sentAt));
        command.Parameters.Add(new NpgsqlParameter<string>("worker", _worker));
        command.Parameters.Add(new NpgsqlParameter<long>("id", deliveryId));
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    /// <summary>Finishes the last outcome's update and frees the batch; a lock it cannot release goes with its session.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await WrittenAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException)
        {
            // The connection broke: that digest is still pending and goes out again with the batch's next run.
            _logger.LogError(ex, "A sent digest could not be recorded; it will be sent again");
        }

        bool released;
        try
        {
            released = await AdvisoryLocks.ReleaseAsync(_connection, LockSpace.SendBatch, _key);
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException)
        {
            _logger.LogWarning(ex, "The lease of deliveries from {FirstDeliveryId} could not be released; its connection is closed instead", _key);
            released = false;
        }
        if (released)
        {
            await _connection.DisposeAsync();
        }
        else
        {
            await DiscardAsync(_pool, _connection);
        }
    }

    /// <summary>
    /// Closes the connection instead of pooling it, which ends its session and every lock the session holds. Npgsql
    /// discards one connection only by clearing its pool: the pool's other connections close as they come back.
    /// </summary>
    internal static async ValueTask DiscardAsync(NpgsqlDataSource pool, NpgsqlConnection connection)
    {
        pool.Clear();
        await connection.DisposeAsync();
    }

    private static string? Bounded(string? reply) => StoredText.Bounded(reply, 1000);
}
