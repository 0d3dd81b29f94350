using System.Globalization;
using Newsletter.Benchmarks.Support;
using Npgsql;

namespace Newsletter.Benchmarks.Scenarios;

/// <summary>
/// What the crash bound costs PostgreSQL: a sent digest's outcome written by itself before the connection's next
/// digest goes out (a killed worker repeats at most one digest per SMTP connection), against outcomes written 32 to a
/// statement (up to 32 repeats per connection). The same update the ledger runs, on a table shaped and indexed like
/// <c>deliveries</c>, from as many connections as the fan-out sends on, with <c>synchronous_commit = off</c> as the
/// ledger's outcome writes have; between them, one statement joining one outcome of every connection, the most
/// any writer can group within the bound. PostgreSQL's CPU per outcome, runs interleaved, medians.
/// </summary>
public static class OutcomeWritesBenchmark
{
    private const int Outcomes = 20_000;
    private const int Group = 32;
    private const int Rounds = 3;

    public static async Task<IReadOnlyList<BenchmarkResult>> RunAsync(BenchEnvironment env)
    {
        var database = await env.CreateDatabaseAsync("bench_outcomes");
        var connectionString = database + ";Options=-c synchronous_commit=off;Max Auto Prepare=64;No Reset On Close=true";
        await using var db = NpgsqlDataSource.Create(connectionString);
        await CreateTableAsync(db);

        var single = new List<double>();
        var joined = new List<double>();
        var grouped = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            single.Add(await MeasureAsync(db, env.SmtpConnections, groupSize: 1));
            // The most one statement can carry within the bound: one unwritten outcome per connection, all joined.
            joined.Add(await MeasureAsync(db, env.SmtpConnections, env.SmtpConnections));
            grouped.Add(await MeasureAsync(db, env.SmtpConnections, Group));
        }

        var singleUs = Statistics.Median(single);
        var groupedUs = Statistics.Median(grouped);
        var details = new Dictionary<string, string>
        {
            ["outcomes"] = Outcomes.ToString(CultureInfo.InvariantCulture),
            ["connections"] = env.SmtpConnections.ToString(CultureInfo.InvariantCulture),
            ["one_per_statement_us"] = string.Join(' ', single.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture))),
            ["connections_per_statement_us"] = string.Join(' ', joined.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture))),
            ["32_per_statement_us"] = string.Join(' ', grouped.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture))),
            ["extra_per_digest_us"] = (singleUs - groupedUs).ToString("0.0", CultureInfo.InvariantCulture),
        };
        return
        [
            new BenchmarkResult("outcome-writes", "PostgreSQL CPU per sent outcome, one per statement (≤1 repeat/connection)",
                singleUs, "µs", $"{Group} per statement", groupedUs, singleUs / groupedUs, Details: details),
        ];
    }

    private static async Task CreateTableAsync(NpgsqlDataSource db)
    {
        await using var create = db.CreateCommand(
            $"""
            create table outcomes (
                id bigint generated always as identity primary key,
                issue_id bigint not null, subscriber_id bigint not null, generation integer not null,
                status text not null default 'pending', attempts integer not null default 0,
                next_attempt_at timestamptz, claimed_by text, smtp_reply text, error text,
                created_at timestamptz not null default now(), updated_at timestamptz not null default now(),
                sent_at timestamptz, paper_ids bigint[] not null default array[1,2,3,4,5,6,7,8]::bigint[],
                unique (issue_id, subscriber_id, generation)
            ) with (autovacuum_enabled = off);
            create index outcomes_open on outcomes (status, next_attempt_at) where status in ('pending', 'sending', 'deferred');
            create index outcomes_subscriber on outcomes (subscriber_id);
            insert into outcomes (issue_id, subscriber_id, generation) select 1, s, 1 from generate_series(1, {Outcomes}) s;
            """);
        await create.ExecuteNonQueryAsync();
    }

    /// <summary>PostgreSQL's CPU per outcome, in microseconds, writing every row's outcome once.</summary>
    private static async Task<double> MeasureAsync(NpgsqlDataSource db, int connections, int groupSize)
    {
        foreach (var sql in new[] { "update outcomes set status = 'pending', sent_at = null", "vacuum outcomes", "checkpoint" })
        {
            await using var reset = db.CreateCommand(sql);
            await reset.ExecuteNonQueryAsync();
        }
        var ids = Enumerable.Range(1, Outcomes).Select(i => (long)i).ToArray();
        var perConnection = ids.Chunk((Outcomes + connections - 1) / connections).ToArray();
        var before = ServerCpu.Snapshot("postgres")["postgres"];
        await Task.WhenAll(perConnection.Select(async share =>
        {
            await using var connection = await db.OpenConnectionAsync();
            foreach (var group in share.Chunk(groupSize))
            {
                await using var update = new NpgsqlCommand(
                    """
                    update outcomes set status = 'sent', smtp_reply = @reply, error = null, attempts = attempts + 1,
                        next_attempt_at = null, sent_at = @sent_at, updated_at = @sent_at, claimed_by = @worker
                    """ + (groupSize == 1 ? " where id = @ids[1]" : " where id = any(@ids)"), connection);
                update.Parameters.Add(new NpgsqlParameter<string>("reply", "250 2.0.0 Ok: queued as 4ZxYwV1abc"));
                update.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("sent_at", DateTimeOffset.UtcNow));
                update.Parameters.Add(new NpgsqlParameter<string>("worker", "bench-worker"));
                update.Parameters.Add(new NpgsqlParameter<long[]>("ids", group));
                await update.ExecuteNonQueryAsync();
            }
        }));
        var cpu = ServerCpu.Snapshot("postgres")["postgres"] - before;
        return cpu.TotalMicroseconds / Outcomes;
    }
}
