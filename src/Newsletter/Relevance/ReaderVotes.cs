using Newsletter.Database;
using Npgsql;

namespace Newsletter.Relevance;

/// <summary>One "More like this" (<see cref="More"/> true) or "Less like this" vote of a reader on a paper.</summary>
public sealed record ReaderVote(long PaperId, string Title, bool More, DateTimeOffset VotedAt);

/// <summary>What a vote link names once its signature checks out: the delivery's reader and one of its papers.</summary>
/// <param name="GetsDigests">The reader is active or paused: a vote shapes their next digest, not only a future one.</param>
public sealed record VoteTarget(long DeliveryId, long SubscriberId, string Email, long PaperId, string PaperTitle, bool More, bool? CurrentVote)
{
    public bool GetsDigests { get; init; } = true;
}

/// <summary>
/// The one owner of <c>reader_votes</c>: a reader's votes are their profile's lessons, one per paper, the latest
/// direction winning. Recording the same vote twice changes nothing, so a link clicked twice counts once.
/// </summary>
public sealed class ReaderVotes(NpgsqlDataSource db, TimeProvider clock)
{
    /// <summary>The most votes a profile keeps; past it the oldest is forgotten, so a profile stays small to read and score.</summary>
    public const int MaxVotesPerReader = 500;

    /// <summary>The reader and paper a signed link names, or null when the delivery is gone or the paper is not one of its
    /// papers (a weekly digest's come from the week's issues, not only the one its row is filed under).</summary>
    public async Task<VoteTarget?> FindTargetAsync(long deliveryId, long paperId, bool more, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select d.subscriber_id, s.email, p.title, v.vote, s.status in ('active', 'paused')
            from deliveries d
            join subscribers s on s.id = d.subscriber_id
            join papers p on p.id = @paper
            left join reader_votes v on v.subscriber_id = d.subscriber_id and v.paper_id = p.id
            where d.id = @delivery and @paper = any(d.paper_ids || d.hidden_ids)
            """);
        command.Parameters.AddWithValue("delivery", deliveryId);
        command.Parameters.AddWithValue("paper", paperId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        return new VoteTarget(deliveryId, reader.GetInt64(0), reader.GetString(1), paperId, reader.GetString(2), more,
            reader.IsDBNull(3) ? null : reader.GetInt16(3) > 0)
        {
            GetsDigests = reader.GetBoolean(4),
        };
    }

    /// <summary>Records the vote (replacing one the other way); true when something changed.</summary>
    public async Task<bool> RecordAsync(VoteTarget target, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(target);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(
                    """
                    insert into reader_votes (subscriber_id, paper_id, vote, delivery_id, voted_at)
                    values (@subscriber, @paper, @vote, @delivery, @now)
                    on conflict (subscriber_id, paper_id) do update set vote = excluded.vote, delivery_id = excluded.delivery_id, voted_at = excluded.voted_at
                    where reader_votes.vote <> excluded.vote
                    """),
                // The oldest lessons go once a profile is full.
                new NpgsqlBatchCommand(
                    """
                    delete from reader_votes where subscriber_id = @subscriber and paper_id in (
                        select paper_id from reader_votes where subscriber_id = @subscriber
                        order by voted_at desc, paper_id desc offset @keep)
                    """),
            },
        };
        var record = batch.BatchCommands[0].Parameters;
        record.AddWithValue("subscriber", target.SubscriberId);
        record.AddWithValue("paper", target.PaperId);
        record.AddWithValue("vote", (short)(target.More ? 1 : -1));
        record.AddWithValue("delivery", target.DeliveryId);
        record.AddWithValue("now", clock.GetUtcNow());
        batch.BatchCommands[1].Parameters.AddWithValue("subscriber", target.SubscriberId);
        batch.BatchCommands[1].Parameters.AddWithValue("keep", MaxVotesPerReader);
        await batch.ExecuteNonQueryAsync(ct);
        return batch.BatchCommands[0].RecordsAffected > 0;
    }

    /// <summary>Forgets one vote ("remove" on the manage page); true when there was one.</summary>
    public async Task<bool> RemoveAsync(long subscriberId, long paperId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("delete from reader_votes where subscriber_id = @subscriber and paper_id = @paper");
        command.Parameters.AddWithValue("subscriber", subscriberId);
        command.Parameters.AddWithValue("paper", paperId);
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>Undo on a vote page: takes back the target's vote, and brings back the vote the other way it replaced when
    /// <paramref name="replaced"/>; a vote cast since from the other link stays. True when there was one to take back.</summary>
    public async Task<bool> UndoAsync(VoteTarget target, bool replaced, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(target);
        await using var command = db.CreateCommand(replaced
            ? "update reader_votes set vote = -vote where subscriber_id = @subscriber and paper_id = @paper and vote = @vote"
            : "delete from reader_votes where subscriber_id = @subscriber and paper_id = @paper and vote = @vote");
        command.Parameters.AddWithValue("subscriber", target.SubscriberId);
        command.Parameters.AddWithValue("paper", target.PaperId);
        command.Parameters.AddWithValue("vote", (short)(target.More ? 1 : -1));
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>Forgets every vote: the profile is the keyword line again.</summary>
    public async Task<int> ResetAsync(long subscriberId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("delete from reader_votes where subscriber_id = @subscriber");
        command.Parameters.AddWithValue("subscriber", subscriberId);
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A reader's votes, newest first, with the papers' titles.</summary>
    public async Task<IReadOnlyList<ReaderVote>> ListAsync(long subscriberId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(ListSql("@subscriber"));
        command.Parameters.AddWithValue("subscriber", subscriberId);
        return await command.ReadAllAsync(ReadVote, ct);
    }

    /// <summary>The query of <see cref="ListAsync"/> for the reader <paramref name="subscriberId"/> (SQL: a parameter or a subquery).</summary>
    public static string ListSql(string subscriberId) =>
        $"""
        select v.paper_id, p.title, v.vote, v.voted_at from reader_votes v join papers p on p.id = v.paper_id
        where v.subscriber_id = {subscriberId} order by v.voted_at desc, v.paper_id desc
        """;

    /// <summary>One row of <see cref="ListSql"/>.</summary>
    public static ReaderVote ReadVote(NpgsqlDataReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new ReaderVote(reader.GetInt64(0), reader.GetString(1), reader.GetInt16(2) > 0, reader.GetFieldValue<DateTimeOffset>(3));
    }
}
