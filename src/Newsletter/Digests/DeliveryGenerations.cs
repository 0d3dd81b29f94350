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

    /// <summary>Active subscribers whose latest earlier delivery of the issue failed or is deferred.</summary>
    Failed,

    /// <summary>Active subscribers with no delivery of the issue at all: they joined after it went out.</summary>
    New,
}

public sealed record GenerationInfo(long IssueId, int Generation, GenerationScope Scope, long? SubscriberId, DateTimeOffset RequestedAt, DateTimeOffset? FannedOutAt);

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
        GenerationScope scope, long? subscriberId, string requestedBy, DateTimeOffset now, CancellationToken ct)
    {
        await using var insert = new NpgsqlCommand(
            """
            insert into delivery_generations (issue_id, generation, scope, subscriber_id, requested_by, requested_at)
            values (@issue, @generation, @scope, @subscriber, @by, @now)
            """, connection, transaction);
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
            select scope, requested_at, fanned_out_at, subscriber_id from delivery_generations
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
            reader.GetFieldValue<DateTimeOffset>(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2));
    }

    /// <summary>The subscribers (id, interests, suggestions) a generation reaches; parameters @issue, @generation and @subscriber.</summary>
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
    /// Who a generation is for. Every scope but 'one' reaches active subscribers only. Ordered by interests, so the
    /// ledger's rows, and with them each send batch, hold subscribers with the same interests together: their digests
    /// share paper blocks, which the renderer's cache then still holds. Who gets what does not depend on the order.
    /// </summary>
    private static string RecipientsQuery(GenerationScope scope) => scope switch
    {
        GenerationScope.Issue or GenerationScope.All => "select id, interests, suggestions from subscribers where status = 'active' order by interests collate \"C\", id",
        GenerationScope.One => "select id, interests, suggestions from subscribers where id = @subscriber and status in ('active', 'paused') order by id",
        GenerationScope.Failed =>
            """
            select s.id, s.interests, s.suggestions from subscribers s
            where s.status = 'active' and (
                select d.status from deliveries d
                where d.issue_id = @issue and d.subscriber_id = s.id and d.generation < @generation
                order by d.generation desc limit 1) in ('failed', 'deferred')
            order by s.interests collate "C", s.id
            """,
        GenerationScope.New =>
            """
            select s.id, s.interests, s.suggestions from subscribers s
            where s.status = 'active'
              and not exists (select 1 from deliveries d where d.issue_id = @issue and d.subscriber_id = s.id)
            order by s.interests collate "C", s.id
            """,
        _ => throw new ArgumentOutOfRangeException(nameof(scope), scope, "Unknown generation scope."),
    };
}
