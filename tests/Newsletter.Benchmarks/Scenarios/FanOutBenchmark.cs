using System.Diagnostics;
using System.Globalization;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using MimeKit.IO;
using Newsletter.Benchmarks.Support;
using Newsletter.Digests;
using Newsletter.Inbox;
using Newsletter.Papers;
using Newsletter.Relevance;
using Newsletter.Subscribers;
using Npgsql;
using NpgsqlTypes;
using Newsletter.Mail;

namespace Newsletter.Benchmarks.Scenarios;

/// <summary>
/// The whole daily send: subscribers with generated interests (read for meaning by the worker's saved-lines job before
/// the listing, as days of saves would have been), the sample ingested, a separate worker process fanning out and
/// sending every digest to smtp-sink. Timed from the ingest call (which enqueues the FanOutJob), once the worker
/// is up (Hangfire servers registered, templates compiled), until no delivery is pending or sending. Against the ceiling
/// for any MailKit sender in this run (issue 21: at least half of it); smtp-source, sending as many messages of the
/// average digest size over as many sessions to the same smtp-sink, is in the details.
/// </summary>
public static class FanOutBenchmark
{
    private const double TargetShareOfCeiling = 0.5;
    private const double TargetRssMegabytes = 300;
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(20);

    public static async Task<IReadOnlyList<BenchmarkResult>> RunAsync(BenchEnvironment env, string emlPath, string listingPath)
    {
        var connectionString = await env.CreateDatabaseAsync("bench_fanout");
        var settings = env.AppSettings(connectionString);
        await using var services = await InProcess.BuildAsync(settings);
        var db = services.GetRequiredService<NpgsqlDataSource>();

        var seedClock = Stopwatch.StartNew();
        var lines = MatchingBenchmark.GenerateInterests(MatchingBenchmark.ReadListing(listingPath), env.Subscribers, env.Seed);
        await SeedSubscribersAsync(db, lines);
        if (env.VotesPerSubscriber > 0)
        {
            await SeedVotesAsync(db, env.VotesPerSubscriber, env.Seed);
        }
        seedClock.Stop();

        await using var worker = AppProcess.Start(env, settings, "worker", "fan-out-worker");
        await WaitForHangfireServersAsync(db, worker);
        // Timed as in production, where the worker is up before the day's listing arrives: its templates are compiled.
        await worker.WaitForTemplatesAsync(TimeSpan.FromMinutes(2));
        // Readers saved their lines before the day's listing: the worker's saved-lines job reads them for meaning first,
        // as it does minutes after each save in production. Queued now rather than at its next minute; untimed.
        var linesClock = Stopwatch.StartNew();
        var savedLines = await CountSavedLinesAsync(db);
        services.GetRequiredService<IBackgroundJobClient>().Enqueue<SavedLinesEmbeddingJob>(job => job.RunAsync(CancellationToken.None));
        await WaitForSavedLinesEmbeddedAsync(db, worker, env.WorkDirectory);
        linesClock.Stop();
        Progress($"{savedLines:N0} saved keyword lines read for meaning by the worker's job in {linesClock.Elapsed.TotalSeconds:0} s");
        // What the worker holds before the first digest (runtime, Hangfire, compiled templates): the rest of its peak is the send.
        var readyRssKb = worker.StatusKilobytes("VmRSS");
        var loadAtStart = BenchEnvironment.LoadAverage();
        var cpuBefore = worker.CpuSeconds();
        var threadsBefore = ServerCpu.ThreadsOf(worker.Id);
        var serversBefore = ServerCpu.Snapshot("postgres", "smtp-sink");
        await using var diagnostics = PostgresDiagnostics.Enabled ? await PostgresDiagnostics.StartAsync(connectionString) : null;

        Progress($"{env.Subscribers:N0} subscribers seeded, worker up; ingesting the sample");
        var bytes = await File.ReadAllBytesAsync(emlPath);
        var startedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var outcome = await services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(bytes, bytes.Length, "bench"), CancellationToken.None);
        var ingestCall = clock.Elapsed;
        var issueId = outcome.IssueId ?? throw new InvalidOperationException($"The sample was not ingested: {outcome.Status} {outcome.Reason}");
        var peakRssKb = 0L;
        var rssSamples = new List<(TimeSpan At, long Kb)>();
        while (!await FinishedAsync(db, issueId))
        {
            if (worker.HasExited || clock.Elapsed > Deadline)
            {
                throw new InvalidOperationException($"The worker {(worker.HasExited ? "exited" : "did not finish in " + Deadline)}; see its log in {env.WorkDirectory}.");
            }
            var rssKb = worker.StatusKilobytes("VmRSS");
            rssSamples.Add((clock.Elapsed, rssKb));
            peakRssKb = Math.Max(peakRssKb, rssKb);
            // Checked once a second: the check is a query, and asking ten times a second cost PostgreSQL over a second of
            // CPU in a 30-second run. The end of the run is the ledger's time of the last 250, not the time we noticed it.
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        clock.Stop();
        var elapsed = await LastAcceptedAsync(db, issueId) - startedAt;
        Progress($"all digests out after {elapsed.TotalSeconds:0.0} s");
        peakRssKb = Math.Max(peakRssKb, worker.StatusKilobytes("VmHWM"));
        var workerCpu = worker.CpuSeconds() - cpuBefore;
        var workerThreads = ServerCpu.ByName(threadsBefore, ServerCpu.ThreadsOf(worker.Id));
        // The rest ran on threads that are gone by now: the tiered compiler's exits when it has nothing left to compile.
        workerThreads["threads that exited"] = TimeSpan.FromSeconds(workerCpu) - workerThreads.Values.Aggregate(TimeSpan.Zero, (a, b) => a + b);
        var servers = ServerCpu.Since(serversBefore);
        if (diagnostics is not null)
        {
            await diagnostics.ReportAsync(Console.Error, "the fan-out");
        }
        var blockCounts = worker.BlockCacheCounts;
        var embeddingPeaks = worker.EmbeddingPeaks;
        var loadAtEnd = BenchEnvironment.LoadAverage();
        await worker.DisposeAsync();

        var counts = await CountAsync(db, issueId);
        var sent = counts.GetValueOrDefault("sent");
        var phases = await PhasesAsync(db, issueId);
        // Which phase the peak belongs to, from the once-a-second samples (the generation was requested by the ingest call).
        var fannedOutAt = ingestCall + phases.FanOut;
        var fanOutPeakMb = rssSamples.Where(r => r.At <= fannedOutAt).Select(r => r.Kb / 1024.0).DefaultIfEmpty(0).Max();
        var sendPeakMb = rssSamples.Where(r => r.At > fannedOutAt).Select(r => r.Kb / 1024.0).DefaultIfEmpty(0).Max();
        var (averageBytes, samples) = await AverageDigestBytesAsync(services, db, issueId);
        Progress($"average digest {averageBytes:0} bytes; smtp-source next");

        // smtp-source: the same number of messages of the same size over the same number of parallel sessions. After the
        // fan-out PostgreSQL is still busy for a while (autovacuum of the ledger, a checkpoint); measured on a busy machine
        // the baseline came out anywhere from 2,800 to 5,300 msg/s. So: wait until PostgreSQL is quiet, then best of three.
        await WaitForQuietPostgresAsync(db);
        var baselineRuns = new List<TimeSpan>();
        for (var run = 0; run < BaselineRuns; run++)
        {
            var (runElapsed, _) = await InProcess.RunToolAsync("smtp-source",
                ["-d", "-s", env.SmtpConnections.ToString(CultureInfo.InvariantCulture), "-m", sent.ToString(CultureInfo.InvariantCulture),
                 "-l", ((long)averageBytes).ToString(CultureInfo.InvariantCulture), "-f", "digest@lab.bench.example", "-t", "reader@bench.example",
                 $"{env.SmtpHost}:{env.SmtpPort}"],
                TimeSpan.FromMinutes(10));
            baselineRuns.Add(runElapsed);
        }
        var baselineElapsed = baselineRuns.Min();

        // The same digests again through our SMTP transport alone: nothing rendered or recorded, no database.
        var transportMessages = Math.Min(sent, TransportAloneMessages);
        Progress($"smtp-source done; our SMTP transport alone next ({transportMessages:N0} messages)");
        var transport = await TransportAloneAsync(services, samples, transportMessages, env.SmtpConnections);

        var ours = sent / elapsed.TotalSeconds;
        var baseline = sent / baselineElapsed.TotalSeconds;
        // The most any sender built on MailKit could reach here: every core busy with nothing but MailKit's CPU per message
        // and smtp-sink's, both measured in this run; rendering, the ledger and PostgreSQL would have to cost nothing.
        var sinkMilliseconds = sent == 0 ? 0 : servers["smtp-sink"].TotalMilliseconds / sent;
        var ceiling = transport.CpuMilliseconds > 0 && sinkMilliseconds > 0
            ? Environment.ProcessorCount * 1000 / (transport.CpuMilliseconds + sinkMilliseconds)
            : (double?)null;
        var shareOfCeiling = ceiling is { } reachable ? ours / reachable : 0;
        var rssMb = peakRssKb / 1024.0;
        var details = new Dictionary<string, string>
        {
            ["subscribers (active)"] = env.Subscribers.ToString("N0", CultureInfo.InvariantCulture),
            ["votes per subscriber (BENCH_VOTES; on 500 earlier papers, a third of them \"More like this\")"] =
                env.VotesPerSubscriber.ToString(CultureInfo.InvariantCulture),
            ["SMTP connections (Newsletter:Smtp:Connections = smtp-source -s)"] = env.SmtpConnections.ToString(CultureInfo.InvariantCulture),
            ["deliveries by status"] = string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}")),
            ["elapsed, ingest call to last digest accepted"] = BenchEnvironment.Format(elapsed.TotalSeconds, "s"),
            ["fan-out phase (generation requested -> fanned out)"] = BenchEnvironment.Format(phases.FanOut.TotalSeconds, "s"),
            ["send phase (first -> last sent_at)"] = BenchEnvironment.Format(phases.Send.TotalSeconds, "s"),
            ["ingest call (this process, first run of the parser and store)"] = BenchEnvironment.Format(ingestCall.TotalSeconds, "s"),
            ["fanned out -> first digest accepted"] = BenchEnvironment.Format(phases.FirstSend.TotalSeconds, "s"),
            ["average digest size (composed sample incl. headers; smtp-source -l)"] = BenchEnvironment.Format(averageBytes, "B"),
            ["smtp-source: messages/s (best of the runs) and our ratio to it"] = $"{BenchEnvironment.Format(baseline, "msg/s")}, ratio {BenchEnvironment.Format(ours / baseline)}",
            ["smtp-source elapsed (best of the runs)"] = BenchEnvironment.Format(baselineElapsed.TotalSeconds, "s"),
            ["smtp-source runs (s)"] = string.Join(", ", baselineRuns.Select(r => r.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture))),
            ["our SMTP transport alone (MailKit, composed digests re-sent, same sessions): messages/s"] = BenchEnvironment.Format(transport.Rate, "msg/s"),
            ["our SMTP transport alone: ratio to smtp-source"] = BenchEnvironment.Format(transport.Rate / (sent / baselineElapsed.TotalSeconds), ""),
            ["our SMTP transport alone: CPU per message"] = BenchEnvironment.Format(transport.CpuMilliseconds, "ms"),
            ["ceiling for a MailKit sender: cores / (transport alone's CPU + smtp-sink's CPU per message)"] =
                ceiling is { } most ? $"{BenchEnvironment.Format(most, "msg/s")}, ratio {BenchEnvironment.Format(most / baseline)}" : "not measured",
            ["worker CPU time during the run (user+sys)"] = BenchEnvironment.Format(workerCpu, "s"),
            ["worker CPU by thread (at least 0.1 s)"] = string.Join(", ", workerThreads
                .Where(t => t.Value >= TimeSpan.FromSeconds(0.1)).OrderByDescending(t => t.Value)
                .Select(t => $"{t.Key} {t.Value.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s")),
            ["PostgreSQL CPU during the run"] = BenchEnvironment.Format(servers["postgres"].TotalSeconds, "s"),
            ["PostgreSQL CPU per digest"] = BenchEnvironment.Format(sent == 0 ? 0 : servers["postgres"].TotalMilliseconds / sent, "ms"),
            ["worker CPU per digest"] = BenchEnvironment.Format(sent == 0 ? 0 : workerCpu * 1000 / sent, "ms"),
            ["smtp-sink CPU during the run"] = BenchEnvironment.Format(servers["smtp-sink"].TotalSeconds, "s"),
            ["worker peak RSS (VmHWM)"] = BenchEnvironment.Format(rssMb, "MB"),
            ["worker RSS when ready, before the run"] = BenchEnvironment.Format(readyRssKb / 1024.0, "MB"),
            ["worker RSS, highest sample in the fan-out phase / in the send phase (once a second)"] =
                $"{BenchEnvironment.Format(fanOutPeakMb, "MB")} / {BenchEnvironment.Format(sendPeakMb, "MB")}",
            ["embedding child process peak RSS (as the worker logged it)"] = embeddingPeaks.Count == 0 ? "no child" : string.Join(", ", embeddingPeaks),
            ["paper blocks (the worker's block cache, whole run)"] = blockCounts ?? "not logged",
            ["seeding subscribers (COPY)"] = BenchEnvironment.Format(seedClock.Elapsed.TotalSeconds, "s"),
            ["saved keyword lines read for meaning before the run (the worker's saved-lines job; untimed)"] =
                $"{savedLines:N0} lines in {BenchEnvironment.Format(linesClock.Elapsed.TotalSeconds, "s")}",
            ["load average at start / end"] = $"{loadAtStart} / {loadAtEnd}",
            ["cores"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
        };
        return
        [
            new BenchmarkResult("fan-out", $"digests/s, {sent:N0} digests, ingest to last accepted", Math.Round(ours, 1), "msg/s",
                $"the ceiling for a MailKit sender: cores / (our transport alone's + smtp-sink's CPU per message), this run; smtp-source in the details",
                Math.Round(ceiling ?? 0, 1), Math.Round(shareOfCeiling, 3),
                ceiling is null ? $"ratio >= {TargetShareOfCeiling} (ceiling not measured)" : $"ratio >= {TargetShareOfCeiling}",
                shareOfCeiling >= TargetShareOfCeiling, details),
            new BenchmarkResult("fan-out", "worker peak RSS (VmHWM)", Math.Round(rssMb, 1), "MB",
                Target: $"under {TargetRssMegabytes} MB", TargetMet: rssMb < TargetRssMegabytes),
        ];
    }

    internal static void Progress(string message) => Console.Error.WriteLine($"[fan-out {DateTime.Now:HH:mm:ss}] {message}");

    /// <summary>Active subscribers in one binary COPY; interests stored normalised, as SubscriberStore does.</summary>
    internal static async Task SeedSubscribersAsync(NpgsqlDataSource db, string[] lines)
    {
        var now = DateTimeOffset.UtcNow;
        await using var connection = await db.OpenConnectionAsync();
        await using (var writer = await connection.BeginBinaryImportAsync(
            "copy subscribers (email, status, interests, format, created_at, confirmed_at, updated_at) from stdin (format binary)"))
        {
            for (var i = 0; i < lines.Length; i++)
            {
                await writer.StartRowAsync();
                await writer.WriteAsync($"reader{i}@bench.example", NpgsqlDbType.Text);
                await writer.WriteAsync("active", NpgsqlDbType.Text);
                await writer.WriteAsync(InterestQuery.Parse(lines[i]).ToString(), NpgsqlDbType.Text);
                await writer.WriteAsync(i % 10 == 9 ? "text" : "html", NpgsqlDbType.Text);
                await writer.WriteAsync(now, NpgsqlDbType.TimestampTz);
                await writer.WriteAsync(now, NpgsqlDbType.TimestampTz);
                await writer.WriteAsync(now, NpgsqlDbType.TimestampTz);
            }
            await writer.CompleteAsync();
        }
        await using var analyze = new NpgsqlCommand("analyze subscribers", connection);
        await analyze.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Votes cast from earlier digests: <paramref name="votesPerReader"/> per subscriber on distinct papers of 500 earlier
    /// ones with vectors (synthetic, unit length: the cost depends on their count, not on what they mean), a third of them
    /// "More like this"; each in one binary COPY.
    /// </summary>
    internal static async Task SeedVotesAsync(NpgsqlDataSource db, int votesPerReader, int seed)
    {
        const int EarlierPapers = 500;
        const int Dimensions = 384;
        var random = new Random(seed);
        await using var connection = await db.OpenConnectionAsync();
        var papers = new List<long>();
        await using (var insert = new NpgsqlCommand(
            """
            insert into papers (paper_key, title, abstract, first_seen_at)
            select 'bench-earlier-' || g, 'Earlier paper ' || g, 'An abstract of an earlier issue.', now() from generate_series(1, @count) g
            returning id
            """, connection))
        {
            insert.Parameters.AddWithValue("count", EarlierPapers);
            await using var reader = await insert.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                papers.Add(reader.GetInt64(0));
            }
        }

        await using (var writer = await connection.BeginBinaryImportAsync("copy paper_embeddings (paper_id, model, vector) from stdin (format binary)"))
        {
            foreach (var paper in papers)
            {
                var values = new float[Dimensions];
                for (var d = 0; d < Dimensions; d++)
                {
                    values[d] = (float)(random.NextDouble() - 0.5);
                }

                await writer.StartRowAsync();
                await writer.WriteAsync(paper, NpgsqlDbType.Bigint);
                await writer.WriteAsync(RelevanceStore.Model, NpgsqlDbType.Text);
                await writer.WriteAsync(Embedding.Normalize(values).ToBytes(), NpgsqlDbType.Bytea);
            }
            await writer.CompleteAsync();
        }

        var subscribers = new List<long>();
        await using (var select = new NpgsqlCommand("select id from subscribers order by id", connection))
        await using (var reader = await select.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                subscribers.Add(reader.GetInt64(0));
            }
        }

        var votes = Math.Min(votesPerReader, EarlierPapers);
        var order = papers.ToArray();
        var now = DateTimeOffset.UtcNow;
        await using (var writer = await connection.BeginBinaryImportAsync("copy reader_votes (subscriber_id, paper_id, vote, voted_at) from stdin (format binary)"))
        {
            // Millions of rows, each checked against two foreign keys: minutes, not the default 30 s.
            writer.Timeout = TimeSpan.FromMinutes(15);
            foreach (var subscriber in subscribers)
            {
                // The first `votes` places of a partial shuffle: distinct papers.
                for (var v = 0; v < votes; v++)
                {
                    var k = random.Next(v, order.Length);
                    (order[v], order[k]) = (order[k], order[v]);
                    await writer.StartRowAsync();
                    await writer.WriteAsync(subscriber, NpgsqlDbType.Bigint);
                    await writer.WriteAsync(order[v], NpgsqlDbType.Bigint);
                    await writer.WriteAsync((short)(random.Next(3) == 0 ? 1 : -1), NpgsqlDbType.Smallint);
                    await writer.WriteAsync(now.AddMinutes(-v), NpgsqlDbType.TimestampTz);
                }
            }
            await writer.CompleteAsync();
        }

        await using var analyze = new NpgsqlCommand("analyze papers, paper_embeddings, reader_votes", connection) { CommandTimeout = 600 };
        await analyze.ExecuteNonQueryAsync();
    }

    private static async Task<long> CountSavedLinesAsync(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand("select count(*) from keyword_lines_to_embed");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task WaitForSavedLinesEmbeddedAsync(NpgsqlDataSource db, AppProcess worker, string workDirectory)
    {
        var clock = Stopwatch.StartNew();
        while (await CountSavedLinesAsync(db) > 0)
        {
            if (worker.HasExited || clock.Elapsed > Deadline)
            {
                throw new InvalidOperationException(
                    $"The saved keyword lines were not read for meaning {(worker.HasExited ? "before the worker exited" : "in " + Deadline)}; see its log in {workDirectory}.");
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    internal static async Task WaitForHangfireServersAsync(NpgsqlDataSource db, AppProcess worker)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (worker.HasExited)
            {
                throw new InvalidOperationException("The worker exited at start; see its log.");
            }
            await using var command = db.CreateCommand("select count(*) from hangfire.server");
            if ((long)(await command.ExecuteScalarAsync())! >= 2)
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("The worker's Hangfire servers did not start within 60 s.");
    }

    private static async Task<bool> FinishedAsync(NpgsqlDataSource db, long issueId)
    {
        await using var command = db.CreateCommand(
            """
            select g.fanned_out_at is not null
               and not exists (select 1 from deliveries d where d.issue_id = @issue and d.status in ('pending', 'sending'))
            from delivery_generations g where g.issue_id = @issue and g.generation = 1
            """);
        command.Parameters.AddWithValue("issue", issueId);
        return await command.ExecuteScalarAsync() is true;
    }

    private static async Task<SortedDictionary<string, long>> CountAsync(NpgsqlDataSource db, long issueId)
    {
        await using var command = db.CreateCommand("select status, count(*) from deliveries where issue_id = @issue group by status");
        command.Parameters.AddWithValue("issue", issueId);
        await using var reader = await command.ExecuteReaderAsync();
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }
        return counts;
    }

    /// <summary>When the last digest of the issue was accepted, as the worker recorded it.</summary>
    private static async Task<DateTimeOffset> LastAcceptedAsync(NpgsqlDataSource db, long issueId)
    {
        await using var command = db.CreateCommand("select max(sent_at) from deliveries where issue_id = @issue");
        command.Parameters.AddWithValue("issue", issueId);
        return await command.ExecuteScalarAsync() is DateTime last
            ? new DateTimeOffset(last, TimeSpan.Zero)
            : throw new InvalidOperationException("No digest of the issue was recorded as sent.");
    }

    private static async Task<(TimeSpan FanOut, TimeSpan Send, TimeSpan FirstSend)> PhasesAsync(NpgsqlDataSource db, long issueId)
    {
        await using var command = db.CreateCommand(
            """
            select extract(epoch from g.fanned_out_at - g.requested_at)::float8,
                   (select extract(epoch from max(sent_at) - min(sent_at))::float8 from deliveries where issue_id = @issue),
                   (select extract(epoch from min(sent_at) - g.fanned_out_at)::float8 from deliveries where issue_id = @issue)
            from delivery_generations g where g.issue_id = @issue and g.generation = 1
            """);
        command.Parameters.AddWithValue("issue", issueId);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (Seconds(0), Seconds(1), Seconds(2));

        TimeSpan Seconds(int column) => TimeSpan.FromSeconds(reader.IsDBNull(column) ? 0 : reader.GetDouble(column));
    }

    private const int BaselineRuns = 3;

    /// <summary>Checkpoints, then waits (at most two minutes) until no autovacuum worker runs and no other session is busy.</summary>
    private static async Task WaitForQuietPostgresAsync(NpgsqlDataSource db)
    {
        await using (var checkpoint = db.CreateCommand("checkpoint"))
        {
            await checkpoint.ExecuteNonQueryAsync();
        }
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            await using var command = db.CreateCommand(
                """
                select count(*) from pg_stat_activity
                where pid <> pg_backend_pid() and (backend_type = 'autovacuum worker' or (backend_type = 'client backend' and state = 'active'))
                """);
            if ((long)(await command.ExecuteScalarAsync())! == 0)
            {
                Progress($"PostgreSQL quiet after {clock.Elapsed.TotalSeconds:0.0} s");
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
        Progress("PostgreSQL still busy after 2 minutes; measuring the baseline anyway");
    }

    /// <summary>Messages the transport-alone diagnostic sends at most: enough for a steady rate, bounded in time.</summary>
    private const long TransportAloneMessages = 20_000;

    /// <summary>
    /// What the worker's SMTP transport reaches on its own: composed digests (<paramref name="messages"/>) handed again and
    /// again to <see cref="IDigestTransportFactory"/>'s connections, one per smtp-source session, with nothing rendered
    /// and nothing recorded. No design that sends through MailKit can beat it on this machine; the gap between it and
    /// smtp-source is MailKit's and MimeKit's cost per message, the gap between it and the fan-out is ours.
    /// </summary>
    private static async Task<(double Rate, double CpuMilliseconds)> TransportAloneAsync(
        IServiceProvider services, List<MimeMessage> messages, long count, int connections)
    {
        if (messages.Count < connections || count == 0)
        {
            Progress($"our SMTP transport alone not measured: {messages.Count} composed digests for {connections} connections");
            return (0, 0);
        }
        var factory = services.GetRequiredService<IDigestTransportFactory>();
        var next = 0L;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async connection =>
        {
            // Each connection its own messages: a message's content streams are rewound and read as it is written, so
            // two connections must never write the same message at once.
            var own = messages.Where((_, index) => index % connections == connection).ToList();
            await using var transport = await factory.ConnectAsync(CancellationToken.None);
            for (var sent = 0; Interlocked.Increment(ref next) <= count; sent++)
            {
                var outcome = await transport.SendAsync(own[sent % own.Count], CancellationToken.None);
                if (outcome.Kind != SendOutcomeKind.Sent)
                {
                    throw new InvalidOperationException($"smtp-sink did not take a message: {outcome.Reply}");
                }
            }
        }));
        clock.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        return (count / clock.Elapsed.TotalSeconds, cpu.TotalMilliseconds / count);
    }

    /// <summary>
    /// Composes every 97th sent digest again in process (links of the real length) and averages its wire size; the
    /// composed messages are kept for <see cref="TransportAloneAsync"/>.
    /// </summary>
    private static async Task<(double AverageBytes, List<MimeMessage> Messages)> AverageDigestBytesAsync(IServiceProvider services, NpgsqlDataSource db, long issueId)
    {
        var content = await IssueContent.LoadAsync(services.GetRequiredService<PaperStore>(), issueId, CancellationToken.None);
        var builder = services.GetRequiredService<DigestBuilder>();
        await using var command = db.CreateCommand(
            """
            select d.subscriber_id, s.email, s.interests, s.format, d.paper_ids from deliveries d join subscribers s on s.id = d.subscriber_id
            where d.issue_id = @issue and d.status = 'sent' and d.id % 97 = 0 order by d.id
            """);
        command.Parameters.AddWithValue("issue", issueId);
        await using var reader = await command.ExecuteReaderAsync();
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        var token = new string('x', DigestLinkKeys.TokenLength);
        var messages = new List<MimeMessage>();
        long total = 0, count = 0;
        var build = new Stopwatch();
        while (await reader.ReadAsync())
        {
            var recipient = new DigestRecipient(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), 1,
                reader.GetFieldValue<long[]>(4), new DeliveryTokens(token, token, token), reader.GetString(3) == "text");
            build.Start();
            var message = await builder.BuildAsync(content, recipient, CancellationToken.None);
            build.Stop();
            using var measure = new MeasuringStream();
            await message.WriteToAsync(format, measure);
            total += measure.Length;
            count++;
            messages.Add(message);
        }
        Progress($"DigestBuilder.BuildAsync in process: {build.Elapsed.TotalMilliseconds / Math.Max(1, count):0.000} ms per digest over {count} (first one compiles the templates)");
        return (count == 0 ? 0 : (double)total / count, messages);
    }
}
