using Newsletter.Database;
using Npgsql;

namespace Newsletter.Digests;

/// <summary>Who a delivery generation reaches. Stored in delivery_generations.scope as the lower-case name.</summary>
public enum GenerationScope
{
    /// <summary>The first generation of a new issue: every active subscriber.</summary>
    Issue,

    /// <summary>One subscriber, by address (active or paused).</summary>
    One,

    /// <summary>Every active subscriber.</summary>
    All,

    /// <summary>Active subscribers whose latest earlier delivery of the issue failed, is deferred, or was a retry skipped for a re-send.</summary>
    Failed,

    /// <summary>Active daily subscribers with no delivery of the issue at all, daily or in a week: they joined after it went out.</summary>
    New,

    /// <summary>Weekly readers whose week ended: written by the weekly run, on the latest issue of the week.</summary>
    Weekly,
}

public sealed record GenerationInfo(long IssueId, int Generation, GenerationScope Scope, long? SubscriberId, DateTimeOffset RequestedAt, DateTimeOffset? FannedOutAt)
{
    /// <summary>Every issue whose papers the generation's digests may hold: a week's for a weekly one; null for the issue alone.</summary>
    public long[]? IssueIds { get; init; }
}

/// <summary>The week an earlier weekly delivery was for, and the issues it gathered.</summary>
public sealed record WeekSent(DateOnly WeekOf, long[] IssueIds);

/// <summary>How many readers a generation would reach still have a digest of its issue on its way, and from which earlier generations.</summary>
public sealed record InFlight(int Readers, int[] Generations);

/// <summary>
/// The one owner of <c>delivery_generations</c>: a generation is one request to send an issue (the first, or a re-send),
/// and the query of who it reaches, which the fan-out streams and a re-send's preview counts.
/// </summary>
public sealed class DeliveryGenerations(NpgsqlDataSource db)
{
    /// <summary>Generation 1 of a new issue, in the transaction that stores the issue, so the two commit together.</summary>
    public static async Task InsertFirstAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long issueId, DateTimeOffset now, CancellationToken ct) =>
        await InsertAsync(connection, transaction, issueId, 1, GenerationScope.Issue, null, "inbox", now, ct);

    public static async Task InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long issueId, int generation,
        GenerationScope scope, long? subscriberId, string requestedBy, DateTimeOffset now, CancellationToken ct, long[]? issueIds = null)
    {
        await using var insert = new NpgsqlCommand(
            """
            insert into delivery_generations (issue_id, generation, scope, subscriber_id, requested_by, requested_at, issue_ids)
            values (@issue, @generation, @scope, @subscriber, @by, @now, @issues)
            """, connection, transaction);
        insert.Parameters.Add(new NpgsqlParameter<long[]?>("issues", issueIds) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bigint });
        insert.Parameters.AddWithValue("issue", issueId);
        insert.Parameters.AddWithValue("generation", generation);
        insert.Parameters.AddWithValue("scope", DbNames.ToDb(scope));
        insert.Parameters.Add(new NpgsqlParameter<long?>("subscriber", subscriberId));
        insert.Parameters.AddWithValue("by", requestedBy.Length <= 200 ? requestedBy : requestedBy[..200]);
        insert.Parameters.AddWithValue("now", now);
        await insert.ExecuteNonQueryAsync(ct);
    }

    public async Task<GenerationInfo?> GetAsync(long issueId, int generation, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select scope, requested_at, fanned_out_at, subscriber_id, issue_ids from delivery_generations
            where issue_id = @issue and generation = @generation
            """);
        command.Parameters.AddWithValue("issue", issueId);
        command.Parameters.AddWithValue("generation", generation);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        return new GenerationInfo(issueId, generation, DbNames.Parse<GenerationScope>(reader.GetString(0)), reader.IsDBNull(3) ? null : reader.GetInt64(3),
            reader.GetFieldValue<DateTimeOffset>(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2))
        {
            IssueIds = reader.IsDBNull(4) ? null : reader.GetFieldValue<long[]>(4),
        };
    }

    /// <summary>
    /// The readers among <paramref name="subscriberIds"/> whose latest earlier delivery of the issue was a weekly digest,
    /// with that week's issues: a re-send brings them their week again. The week is the one written on this issue (its
    /// latest), not merely of the same date: a reader can be sent two weeks named by one date.
    /// </summary>
    public async Task<Dictionary<long, WeekSent>> WeeksOfAsync(long issueId, int generation, long[] subscriberIds, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select l.subscriber_id, l.week_of, g.issue_ids
            from (select distinct on (d.subscriber_id) d.subscriber_id, d.week_of, d.generation from deliveries d
                  where d.issue_id = @issue and d.generation < @generation and d.subscriber_id = any(@subscribers)
                  order by d.subscriber_id, d.generation desc) l
            cross join lateral (
                select w.generation from weekly_digests w
                where w.subscriber_id = l.subscriber_id and w.issue_id = @issue and w.week_of = l.week_of and w.generation <= l.generation
                order by w.generation desc limit 1) w
            join delivery_generations g on g.issue_id = @issue and g.generation = w.generation
            """);
        command.Parameters.AddWithValue("issue", issueId);
        command.Parameters.AddWithValue("generation", generation);
        command.Parameters.AddWithValue("subscribers", subscriberIds);
        var weeks = new Dictionary<long, WeekSent>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            weeks[reader.GetInt64(0)] = new WeekSent(reader.GetFieldValue<DateOnly>(1), reader.GetFieldValue<long[]>(2));
        }
        return weeks;
    }

    /// <summary>Records every issue a generation's digests draw papers from, so its send batches load them all.</summary>
    public async Task SetIssuesAsync(long issueId, int generation, long[] issueIds, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "update delivery_generations set issue_ids = @issues where issue_id = @issue and generation = @generation");
        command.Parameters.AddWithValue("issues", issueIds.Distinct().Order().ToArray());
        command.Parameters.AddWithValue("issue", issueId);
        command.Parameters.AddWithValue("generation", generation);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The subscribers (id, interests, suggestions, no_repeats) a generation reaches; parameters @issue, @generation and @subscriber.</summary>
    public static NpgsqlCommand RecipientsCommand(NpgsqlConnection connection, NpgsqlTransaction? transaction, GenerationInfo generation)
    {
        var command = new NpgsqlCommand(RecipientsQuery(generation.Scope), connection, transaction);
        command.Parameters.AddWithValue("issue", generation.IssueId);
        command.Parameters.AddWithValue("generation", generation.Generation);
        command.Parameters.Add(new NpgsqlParameter<long?>("subscriber", generation.SubscriberId));
        return command;
    }

    /// <summary>How many subscribers a generation would reach now: what a re-send's preview shows before it is confirmed.</summary>
    public static async Task<long> CountRecipientsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, GenerationInfo generation, CancellationToken ct)
    {
        await using var command = RecipientsCommand(connection, transaction, generation);
        command.CommandText = $"select count(*) from ({command.CommandText}) t";
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Of the readers <paramref name="generation"/> would reach now, those who still have a digest of its issue on its way
    /// from an earlier generation: a row not sent yet (pending, or a retry that is due and may be going out), or a generation
    /// not fanned out yet that reaches them. Null when there are none.
    /// </summary>
    public static async Task<InFlight?> InFlightAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, GenerationInfo generation,
        DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(generation);
        var readers = new HashSet<long>();
        var generations = new SortedSet<int>();
        // Generations first: one fanned out after this read commits its rows with its mark, so the rows' query below sees them.
        var unwritten = new List<GenerationInfo>();
        await using (var command = new NpgsqlCommand(
            """
            select generation, scope, subscriber_id from delivery_generations
            where issue_id = @issue and generation < @generation and fanned_out_at is null order by generation
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("issue", generation.IssueId);
            command.Parameters.AddWithValue("generation", generation.Generation);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                unwritten.Add(new GenerationInfo(generation.IssueId, reader.GetInt32(0), DbNames.Parse<GenerationScope>(reader.GetString(1)),
                    reader.IsDBNull(2) ? null : reader.GetInt64(2), default, null));
            }
        }
        if (unwritten.Count > 0)
        {
            var reached = await RecipientIdsAsync(connection, transaction, generation, ct);
            foreach (var earlier in unwritten)
            {
                var both = await RecipientIdsAsync(connection, transaction, earlier, ct);
                both.IntersectWith(reached);
                if (both.Count > 0)
                {
                    readers.UnionWith(both);
                    generations.Add(earlier.Generation);
                }
            }
        }

        await using (var command = RecipientsCommand(connection, transaction, generation))
        {
            command.CommandText =
                $"""
                select distinct d.subscriber_id, d.generation from deliveries d
                where d.issue_id = @issue and d.generation < @generation
                  and (d.status in ('pending', 'sending') or (d.status = 'deferred' and d.next_attempt_at <= @now))
                  and d.subscriber_id in (select r.id from ({command.CommandText}) r)
                """;
            command.Parameters.AddWithValue("now", now);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                readers.Add(reader.GetInt64(0));
                generations.Add(reader.GetInt32(1));
            }
        }
        return readers.Count == 0 ? null : new InFlight(readers.Count, [.. generations]);
    }

    private static async Task<HashSet<long>> RecipientIdsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, GenerationInfo generation,
        CancellationToken ct)
    {
        await using var command = RecipientsCommand(connection, transaction, generation);
        command.CommandText = $"select r.id from ({command.CommandText}) r";
        var ids = new HashSet<long>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetInt64(0));
        }
        return ids;
    }

    /// <summary>
    /// Who a generation is for. Every scope but 'one' reaches active subscribers only, and an issue's own fan-out,
    /// 'all' and 'new' daily readers only (weekly readers get the issue with their week): for the first two, those daily
    /// when the issue arrived, however late the fan-out runs. Ordered by interests, so the
    /// ledger's rows, and with them each send batch, hold subscribers with the same interests together: their digests
    /// share paper blocks, which the renderer's cache then still holds. Who gets what does not depend on the order.
    /// </summary>
    private static string RecipientsQuery(GenerationScope scope) => scope switch
    {
        // Daily when the issue arrived: a week starts at weekly_since, and a last week (before turning daily) ends at weekly_until.
        GenerationScope.Issue or GenerationScope.All =>
            """
            select s.id, s.interests, s.suggestions, s.no_repeats from subscribers s join issues i on i.id = @issue
            where s.status = 'active'
              and case when s.frequency = 'daily' then s.weekly_until is null or s.weekly_until < i.created_at or s.weekly_since > i.created_at
                       else s.weekly_since > i.created_at end
            order by s.interests collate "C", s.id
            """,
        GenerationScope.One => "select id, interests, suggestions, no_repeats from subscribers where id = @subscriber and status in ('active', 'paused') order by id",
        // A retry skipped for this very re-send (superseded) is still one that did not arrive.
        GenerationScope.Failed =>
            $"""
            select s.id, s.interests, s.suggestions, s.no_repeats from subscribers s
            where s.status = 'active' and (
                select d.status in ('failed', 'deferred') or (d.status = 'skipped' and d.error = '{DeliveryLedger.SupersededReason}')
                from deliveries d
                where d.issue_id = @issue and d.subscriber_id = s.id and d.generation < @generation
                order by d.generation desc limit 1)
            order by s.interests collate "C", s.id
            """,
        // A reader weekly when the issue arrived has it in a week, written (on the week's latest issue) or still to come.
        GenerationScope.New =>
            """
            select s.id, s.interests, s.suggestions, s.no_repeats from subscribers s join issues i on i.id = @issue
            where s.status = 'active' and s.frequency = 'daily'
              and (s.weekly_until is null or s.weekly_until < i.created_at or s.weekly_since > i.created_at)
              and not exists (select 1 from deliveries d where d.issue_id = @issue and d.subscriber_id = s.id)
              and not exists (
                  select 1 from weekly_digests w join delivery_generations g on g.issue_id = w.issue_id and g.generation = w.generation
                  where w.subscriber_id = s.id and @issue = any(g.issue_ids))
            order by s.interests collate "C", s.id
            """,
        GenerationScope.Weekly =>
            "select id, interests, suggestions, no_repeats from subscribers where status = 'active' and frequency = 'weekly' order by interests collate \"C\", id",
        _ => throw new ArgumentOutOfRangeException(nameof(scope), scope, "Unknown generation scope."),
    };
}
