using Npgsql;

namespace Newsletter.IntegrationTests.Support;

/// <summary>
/// The ledger as a fan-out leaves it, written directly: issue 1 of 2025-03-11, generation 1 fanned out
/// <see cref="At"/>, one pending row per subscriber.
/// </summary>
internal static class FannedOutGeneration
{
    public static readonly DateTimeOffset At = new(2025, 3, 11, 15, 0, 0, TimeSpan.Zero);

    /// <param name="pausedEvery">Every n-th subscriber is paused since the fan-out (0: none).</param>
    /// <returns>The rows' ids, in order.</returns>
    public static async Task<long[]> CreateAsync(TestApp app, int subscribers, int pausedEvery = 0)
    {
        await using var connection = await app.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(
            """
            insert into inbound_messages (message_id, sha256, source, size_bytes, raw, received_at, status)
            values ('fanned-out@test', '\x01', 'cli', 1, '\x01', @at, 'ingested');
            insert into issues (id, issue_date, subject, inbound_message_id, paper_count, created_at)
            overriding system value
            select 1, '2025-03-11', 'Trending papers', id, 0, @at from inbound_messages;
            insert into delivery_generations (issue_id, generation, scope, requested_by, requested_at, fanned_out_at)
            values (1, 1, 'issue', 'inbox', @at, @at);
            insert into subscribers (email, status, interests, created_at, updated_at)
            select 'reader' || n || '@test.example', case when @paused > 0 and n % @paused = 0 then 'paused' else 'active' end,
                   'agents', @at, @at
            from generate_series(1, @count) n;
            insert into deliveries (issue_id, subscriber_id, generation, status, paper_ids, created_at, updated_at)
            select 1, s.id, 1, 'pending', '{}', @at, @at from subscribers s order by s.id
            returning id;
            """, connection);
        command.Parameters.AddWithValue("at", At);
        command.Parameters.AddWithValue("count", subscribers);
        command.Parameters.AddWithValue("paused", pausedEvery);
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        do
        {
            while (await reader.ReadAsync(Ct))
            {
                ids.Add(reader.GetInt64(0));
            }
        }
        while (await reader.NextResultAsync(Ct));
        return [.. ids.Order()];
    }
}
