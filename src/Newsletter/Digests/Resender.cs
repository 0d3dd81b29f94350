using Hangfire;
using Newsletter.Database;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Digests;

public sealed record ResendPreview(long IssueId, GenerationScope Scope, long? SubscriberId, int NextGeneration, long Recipients);

public sealed record ResendRequested(long IssueId, GenerationScope Scope, long? SubscriberId, int Generation, long Recipients);

public sealed record GenerationProgress(int Generation, GenerationScope Scope, string? Email, string RequestedBy, DateTimeOffset RequestedAt,
    DateTimeOffset? FannedOutAt, IReadOnlyDictionary<string, long> ByStatus)
{
    public long Total => ByStatus.Values.Sum();
}

/// <summary>A re-send was refused before anything was written; the message says why, for the admin.</summary>
/// <param name="tryLater">The issue is still going out: the same request can go once it has (409 and exit 75, not bad input).</param>
public sealed class ResendRefusedException(string message, bool tryLater = false) : Exception(message)
{
    public bool TryLater { get; } = tryLater;
}

/// <summary>
/// Re-sends an issue as a new delivery generation (max + 1) and never touches the rows of earlier ones. The count shown
/// before confirming runs the fan-out's own subscriber query, so the preview and the fan-out cannot disagree. A re-send
/// that would reach a reader who still has the issue on its way (<see cref="DeliveryGenerations.InFlightAsync"/>) is
/// refused, in the preview too: the digest on its way and the re-send's would both arrive.
/// </summary>
public sealed class Resender(NpgsqlDataSource db, SubscriberStore subscribers, IBackgroundJobClient jobs, TimeProvider clock)
{
    /// <summary>A scope an admin may ask for: every one but those the inbox and the weekly run write.</summary>
    public static bool TryParseScope(string? text, out GenerationScope scope) =>
        DbNames.TryParse(text, out scope) && IsAdminScope(scope);

    /// <summary>Why <paramref name="text"/> is not a scope an admin may ask for.</summary>
    public static string ScopeRefusal(string? text) => $"scope must be one of one, all, failed, new; not '{text}'.";

    private static bool IsAdminScope(GenerationScope scope) => scope is not (GenerationScope.Issue or GenerationScope.Weekly);

    public async Task<ResendPreview> PreviewAsync(long issueId, GenerationScope scope, string? email, CancellationToken ct)
    {
        var subscriber = await ResolveAsync(scope, email, ct);
        await using var connection = await db.OpenConnectionAsync(ct);
        var next = await NextGenerationAsync(connection, null, issueId, lockIssue: false, ct);
        var generation = new GenerationInfo(issueId, next, scope, subscriber?.Id, default, null);
        var count = await DeliveryGenerations.CountRecipientsAsync(connection, null, generation, ct);
        await RefuseWhileOnItsWayAsync(connection, null, generation, subscriber, count, ct);
        return new ResendPreview(issueId, scope, subscriber?.Id, next, count);
    }

    public async Task<ResendRequested> RequestAsync(long issueId, GenerationScope scope, string? email, string requestedBy, CancellationToken ct)
    {
        var subscriber = await ResolveAsync(scope, email, ct);
        await using var connection = await db.OpenConnectionAsync(ct);
        int generation;
        long count;
        await using (var transaction = await connection.BeginTransactionAsync(ct))
        {
            // Locking the issue row serialises concurrent re-sends of one issue, so max + 1 is never taken twice.
            generation = await NextGenerationAsync(connection, transaction, issueId, lockIssue: true, ct);
            if (scope is GenerationScope.New or GenerationScope.Failed && await NotFannedOutAsync(connection, transaction, issueId, ct) is { } pending)
            {
                // Who is new or failed is read from the ledger, which has no rows of that generation yet.
                throw new ResendRefusedException(
                    $"Issue {issueId} is still being fanned out (generation {pending}): re-send to new or failed subscribers once it is.", tryLater: true);
            }
            var info = new GenerationInfo(issueId, generation, scope, subscriber?.Id, default, null);
            count = await DeliveryGenerations.CountRecipientsAsync(connection, transaction, info, ct);
            await RefuseWhileOnItsWayAsync(connection, transaction, info, subscriber, count, ct);
            await DeliveryGenerations.InsertAsync(connection, transaction, issueId, generation, scope, subscriber?.Id, requestedBy, clock.GetUtcNow(), ct);
            await transaction.CommitAsync(ct);
        }
        FanOutJob.Queue(jobs, issueId, generation);
        return new ResendRequested(issueId, scope, subscriber?.Id, generation, count);
    }

    /// <summary>
    /// Queues the fan-out of a generation not fanned out yet (its job deleted or failed in the dashboard); false when it
    /// has been, or does not exist. A fan-out already on its way is harmless: the ledger takes one plan.
    /// </summary>
    public async Task<bool> RequeueFanOutAsync(long issueId, int generation, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "select exists (select from delivery_generations where issue_id = @issue and generation = @generation and fanned_out_at is null)");
        command.Parameters.AddWithValue("issue", issueId);
        command.Parameters.AddWithValue("generation", generation);
        if (await command.ExecuteScalarAsync(ct) is not true)
        {
            return false;
        }
        FanOutJob.Queue(jobs, issueId, generation);
        return true;
    }

    /// <summary>A generation still waiting for its fan-out long after it was asked for: its job was lost, deleted or failed.</summary>
    public bool FanOutStalled(GenerationProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        return progress.FannedOutAt is null && progress.RequestedAt < clock.GetUtcNow() - DeliveryRecoveryJob.StaleAfter;
    }

    /// <summary>Every generation of an issue, newest first, with its rows counted by status.</summary>
    public async Task<IReadOnlyList<GenerationProgress>> ProgressAsync(long issueId, int? generation, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select g.generation, g.scope, s.email, g.requested_by, g.requested_at, g.fanned_out_at,
                   coalesce((select jsonb_object_agg(status, n) from (
                       select d.status, count(*) as n from deliveries d
                       where d.issue_id = g.issue_id and d.generation = g.generation group by d.status) c), '{}'::jsonb)::text
            from delivery_generations g left join subscribers s on s.id = g.subscriber_id
            where g.issue_id = @issue and (@generation::int is null or g.generation = @generation)
            order by g.generation desc
            """);
        command.Parameters.AddWithValue("issue", issueId);
        command.Parameters.Add(new NpgsqlParameter<int?>("generation", generation));
        var result = new List<GenerationProgress>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var counts = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, long>>(reader.GetString(6)) ?? [];
            result.Add(new GenerationProgress(reader.GetInt32(0), DbNames.Parse<GenerationScope>(reader.GetString(1)), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4), reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5), counts));
        }
        return result;
    }

    /// <summary>
    /// Refuses a re-send that would reach readers who still have the issue on its way: the digest already going out and the
    /// re-send's would both arrive. Once those have gone out (or been deferred, whose retry the re-send then supersedes) it may go.
    /// </summary>
    private async Task RefuseWhileOnItsWayAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, GenerationInfo generation,
        Subscriber? one, long count, CancellationToken ct)
    {
        if (await DeliveryGenerations.InFlightAsync(connection, transaction, generation, clock.GetUtcNow(), ct) is not { } inFlight)
        {
            return;
        }
        var from = $"{(inFlight.Generations.Length == 1 ? "generation" : "generations")} {string.Join(", ", inFlight.Generations)}";
        throw new ResendRefusedException(one is not null
            ? $"Not re-sent: {one.Email} still has issue {generation.IssueId} on its way ({from}). Re-send once it has gone out, so they do not get it twice."
            : $"Not re-sent: {inFlight.Readers} of the {count} subscriber(s) it would reach still have issue {generation.IssueId} on its way ({from}). " +
              "Re-send once that has gone out, so nobody gets the issue twice.", tryLater: true);
    }

    private async Task<Subscriber?> ResolveAsync(GenerationScope scope, string? email, CancellationToken ct)
    {
        if (!IsAdminScope(scope))
        {
            throw new ResendRefusedException(ScopeRefusal(DbNames.ToDb(scope)));
        }
        if (scope != GenerationScope.One)
        {
            return null;
        }
        if (string.IsNullOrWhiteSpace(email))
        {
            throw new ResendRefusedException("A re-send to one subscriber needs their address.");
        }
        var subscriber = await subscribers.FindByEmailAsync(email, ct)
            ?? throw new ResendRefusedException($"No subscriber has the address {email.Trim()}.");
        if (subscriber.Status is not (SubscriberStatus.Active or SubscriberStatus.Paused))
        {
            throw new ResendRefusedException($"{subscriber.Email} is {SubscriberStore.ToDb(subscriber.Status)}: only active or paused subscribers can be sent a digest.");
        }
        return subscriber;
    }

    /// <summary>The first generation of the issue that is not fanned out yet, or null.</summary>
    private static async Task<int?> NotFannedOutAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long issueId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "select min(generation) from delivery_generations where issue_id = @issue and fanned_out_at is null", connection, transaction);
        command.Parameters.AddWithValue("issue", issueId);
        return await command.ExecuteScalarAsync(ct) is int generation ? generation : null;
    }

    private static async Task<int> NextGenerationAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long issueId, bool lockIssue, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            lockIssue
                ? "select id from issues where id = @issue for update"
                : "select id from issues where id = @issue", connection, transaction);
        command.Parameters.AddWithValue("issue", issueId);
        if (await command.ExecuteScalarAsync(ct) is null)
        {
            throw new ResendRefusedException($"Issue {issueId} does not exist.");
        }
        await using var max = new NpgsqlCommand(
            "select coalesce(max(generation), 0) + 1 from delivery_generations where issue_id = @issue", connection, transaction);
        max.Parameters.AddWithValue("issue", issueId);
        return (int)(await max.ExecuteScalarAsync(ct))!;
    }
}
