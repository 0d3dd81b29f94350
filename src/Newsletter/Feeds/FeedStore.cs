using Newsletter.Database;
using Newsletter.Digests;
using Newsletter.Papers;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Feeds;

/// <summary>A paper as a feed shows it: when the reader (or the issue) first had it, and in which issue.</summary>
public sealed record FeedEntry(IssuePaper Paper, DateTimeOffset Published, long IssueId);

/// <summary>Whose feed a secret address opens, and since when that address exists.</summary>
public sealed record FeedOwner(long SubscriberId, DateTimeOffset CreatedAt);

/// <summary>
/// The personal feeds (<c>subscriber_feeds</c>): one secret address per subscriber, 128 random bits of which only the
/// SHA-256 is stored, as <see cref="SubscriberTokens"/> store theirs. And what a feed holds: the papers of the reader's
/// own deliveries, read from the ledger, so the feed carries exactly what their digests carried.
/// </summary>
public sealed class FeedStore(NpgsqlDataSource db, TimeProvider clock)
{
    // A delivery that is going out or went out; failed and skipped ones brought the reader nothing.
    private static readonly string[] Delivered =
        [.. new[] { DeliveryStatus.Pending, DeliveryStatus.Sending, DeliveryStatus.Sent, DeliveryStatus.Deferred }.Select(DbNames.ToDb)];

    /// <summary>Makes a new secret address for the subscriber; the previous one, if any, stops working at once.</summary>
    /// <returns>The token of the new address: shown once, never stored.</returns>
    public async Task<string> ReplaceAsync(long subscriberId, CancellationToken ct)
    {
        var token = SubscriberTokens.NewToken();
        await using var command = db.CreateCommand(
            """
            insert into subscriber_feeds (subscriber_id, token_hash, created_at) values (@subscriber, @hash, @now)
            on conflict (subscriber_id) do update set token_hash = excluded.token_hash, created_at = excluded.created_at
            """);
        command.Parameters.AddWithValue("subscriber", subscriberId);
        command.Parameters.AddWithValue("hash", SubscriberTokens.HashToken(token));
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        await command.ExecuteNonQueryAsync(ct);
        return token;
    }

    /// <summary>Turns the subscriber's feed off: its address answers 404 from now on.</summary>
    public async Task<bool> RevokeAsync(long subscriberId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("delete from subscriber_feeds where subscriber_id = @subscriber");
        command.Parameters.AddWithValue("subscriber", subscriberId);
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>When the subscriber's current feed address was made; null when they have none.</summary>
    public async Task<DateTimeOffset?> CreatedAtAsync(long subscriberId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("select created_at from subscriber_feeds where subscriber_id = @subscriber");
        command.Parameters.AddWithValue("subscriber", subscriberId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? reader.GetFieldValue<DateTimeOffset>(0) : null;
    }

    /// <summary>The owner of a feed address; null for a token that is malformed, forged or replaced.</summary>
    public async Task<FeedOwner?> FindAsync(string? token, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(token) || token.Length > SubscriberTokens.MaxTokenLength || !token.All(char.IsAscii))
        {
            return null;
        }
        await using var command = db.CreateCommand("select subscriber_id, created_at from subscriber_feeds where token_hash = @hash");
        command.Parameters.AddWithValue("hash", SubscriberTokens.HashToken(token));
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new FeedOwner(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1)) : null;
    }

    /// <summary>
    /// When the subscriber's deliveries that <see cref="ReaderPapersAsync"/> reads last changed (a re-send of an older issue
    /// adds papers dated by that issue, before the feed's newest entry); null when there are none.
    /// </summary>
    public async Task<DateTimeOffset?> ReaderPapersChangedAsync(long subscriberId, DateTimeOffset since, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select max(d.updated_at)
            from deliveries d join issues i on i.id = d.issue_id
            where d.subscriber_id = @subscriber and d.status = any(@delivered) and i.created_at >= @since
            """);
        command.Parameters.AddWithValue("subscriber", subscriberId);
        command.Parameters.AddWithValue("delivered", Delivered);
        command.Parameters.AddWithValue("since", since);
        return await command.ExecuteScalarAsync(ct) is DateTime changed ? new DateTimeOffset(changed, TimeSpan.Zero) : null;
    }

    /// <summary>
    /// The papers of the subscriber's deliveries of issues since <paramref name="since"/>, each once (a paper in several
    /// issues or re-sends is one entry, dated by the first), newest first, at most <paramref name="max"/>.
    /// </summary>
    public async Task<IReadOnlyList<FeedEntry>> ReaderPapersAsync(long subscriberId, DateTimeOffset since, int max, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            with received as (
                select distinct on (paper_id) paper_id, i.created_at, i.id as issue_id
                from deliveries d
                join issues i on i.id = d.issue_id
                cross join lateral unnest(d.paper_ids) as paper_id
                where d.subscriber_id = @subscriber and d.status = any(@delivered) and i.created_at >= @since
                order by paper_id, i.created_at, i.id
            )
            select p.id, p.title, p.abstract, p.arxiv_id, p.links, r.created_at, r.issue_id
            from received r join papers p on p.id = r.paper_id
            order by r.created_at desc, r.issue_id desc, p.id
            limit @max
            """);
        command.Parameters.AddWithValue("subscriber", subscriberId);
        command.Parameters.AddWithValue("delivered", Delivered);
        command.Parameters.AddWithValue("since", since);
        command.Parameters.AddWithValue("max", max);
        var entries = new List<FeedEntry>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var paper = new IssuePaper(reader.GetInt64(0), 0, reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetFieldValue<string[]>(4));
            entries.Add(new FeedEntry(paper, reader.GetFieldValue<DateTimeOffset>(5), reader.GetInt64(6)));
        }
        return entries;
    }
}
