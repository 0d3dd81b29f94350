using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Newsletter.Benchmarks.Support;
using Newsletter.Inbox;
using Newsletter.Relevance;
using Npgsql;

namespace Newsletter.Benchmarks.Scenarios;

/// <summary>
/// What a reader feels of the inbound path: a worker process watches a Dovecot inbox (IMAP IDLE, the scheduled poll at
/// its default of a minute) and has a few subscribers; listings of new days are appended one after another, each once
/// the one before has been sent out, and each is timed from its APPEND to the first digest of its issue accepted by
/// smtp-sink (the ledger's first <c>sent_at</c>). Every listing has to wake the poll through IDLE to be in time.
/// </summary>
public static class TimeToInboxBenchmark
{
    private static readonly TimeSpan TargetMedian = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan TargetWorst = TimeSpan.FromSeconds(5);
    // Longer than the scheduled poll: a listing IDLE misses still arrives, and shows as a number instead of an error.
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    public static async Task<IReadOnlyList<BenchmarkResult>> RunAsync(BenchEnvironment env, string emlPath, string listingPath)
    {
        var connectionString = await env.CreateDatabaseAsync("bench_inbox");
        var user = $"bench-inbox-{Guid.NewGuid():N}";
        var settings = IngestionBenchmark.PollerSettings(env, user, connectionString);
        await using var services = await InProcess.BuildAsync(settings);
        var db = services.GetRequiredService<NpgsqlDataSource>();
        var lines = MatchingBenchmark.GenerateInterests(MatchingBenchmark.ReadListing(listingPath), env.InboxSubscribers, env.Seed);
        await FanOutBenchmark.SeedSubscribersAsync(db, lines);
        await using var worker = AppProcess.Start(env, settings, "worker", "time-to-inbox-worker");
        await FanOutBenchmark.WaitForHangfireServersAsync(db, worker);
        await worker.WaitForTemplatesAsync(TimeSpan.FromMinutes(2));
        // The watcher polls once when it has connected: from then on it is in IDLE, as a worker is all day.
        await WaitAsync(worker, async () => await ScalarAsync(db, "select count(*) from mailbox_state") is > 0L, "the worker's first poll");

        using var imap = new ImapClient { Timeout = 60_000 };
        await imap.ConnectAsync(env.ImapHost, env.ImapPort, SecureSocketOptions.None);
        await imap.AuthenticateAsync(user, env.ImapPassword);
        var template = Encoding.Latin1.GetString(await File.ReadAllBytesAsync(emlPath));
        var days = IngestionBenchmark.Variants(template, env.InboxListings + 1).Select((bytes, i) => NewPapers(bytes, i)).ToList();
        // Yesterday's listing, not timed: its fan-out reads the readers' keyword lines for meaning, as a worker's has
        // long done by the time a day's listing arrives.
        await AppendAndWaitAsync(imap, worker, db, days[^1]);
        Progress("warm-up listing sent out: every keyword line has its vector");
        var loadAtStart = BenchEnvironment.LoadAverage();
        var listings = new List<Listing>();
        var embeddings = new List<EmbeddingRun?>();
        foreach (var (message, index) in days.SkipLast(1).Reverse().Select((m, i) => (m, i)))
        {
            var runsBefore = worker.EmbeddingRuns.Count;
            var listing = await AppendAndWaitAsync(imap, worker, db, message);
            listings.Add(listing);
            embeddings.Add(worker.EmbeddingRuns.Skip(runsBefore).FirstOrDefault());
            Progress($"listing {index + 1} ({message.Date:yyyy-MM-dd}): first digest accepted {listing.Total.TotalSeconds:0.00} s after its APPEND");
        }
        await imap.DisconnectAsync(true);
        var loadAtEnd = BenchEnvironment.LoadAverage();

        var median = Median(listings.Select(l => l.Total));
        var worst = listings.Max(l => l.Total);
        // The least any implementation of the model could take on this machine: each listing's papers are the sample's
        // lengths, read as the service reads them, at the rate this machine's cores multiply and add, measured now.
        var papers = new TrendingEmailParser().Parse(days[0]).Papers;
        var pieces = ModelArithmetic.WordPieces(papers.Select(p => TextEmbedder.PaperText(p.Title, p.Abstract)));
        var flops = pieces.Sum(ModelArithmetic.Flops);
        var (peak, peakPerCore) = ModelArithmetic.PeakFlopsPerSecond();
        var poll = Median(listings.Select(l => l.Stored));
        var floor = poll + TimeSpan.FromSeconds(flops / peak);
        var childCpus = embeddings.OfType<EmbeddingRun>().Select(e => e.CpuSeconds).ToList();
        var childCpu = childCpus.Count == 0 ? double.NaN : Statistics.Median(childCpus);
        var details = new Dictionary<string, string>
        {
            ["APPEND to first digest accepted, each listing in order (s)"] = Seconds(listings.Select(l => l.Total)),
            ["APPEND to stored by the poll (inbound_messages.received_at), each (s)"] = Seconds(listings.Select(l => l.Stored)),
            ["stored to fanned out, each (s)"] = Seconds(listings.Select(l => l.FannedOut - l.Stored)),
            ["of which the embedding child, start to stored vectors, each (s)"] = string.Join(", ", embeddings.Select(e => e is null ? "none" : e.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture))),
            ["the embedding child's papers and CPU, each"] = string.Join(", ", embeddings.Select(e => e is null ? "none" : $"{e.Papers} papers {e.CpuSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s")),
            ["fanned out to first digest accepted, each (s)"] = Seconds(listings.Select(l => l.Total - l.FannedOut)),
            ["subscribers (active; their keyword lines read for meaning by an untimed listing before)"] = env.InboxSubscribers.ToString("N0", CultureInfo.InvariantCulture),
            ["listings"] = "the sample on another day each, every title changed, so every listing's papers are new and are embedded before its digests go out",
            ["digests sent per listing"] = string.Join(", ", listings.Select(l => l.Sent.ToString(CultureInfo.InvariantCulture))),
            ["scheduled poll"] = "Newsletter:Inbox:PollInterval at its default (1 minute)",
            ["load average at start / end"] = $"{loadAtStart} / {loadAtEnd}",
            ["the model's arithmetic per listing (MiniLM-L6's matrix products; a multiply-add is 2)"] =
                $"{flops / 1e9:0.0} GFLOP for {papers.Count} papers of {pieces.Sum():N0} word pieces (median {pieces.Order().ElementAt(pieces.Length / 2)}, longest {pieces.Max()})",
            ["this machine's peak, 32-bit fused multiply-adds on every core at once (measured now)"] =
                $"{peak / 1e9:0.0} GFLOP/s ({peakPerCore / 1e9:0.0} per core)",
            ["floor: that arithmetic at that peak, plus the poll's median"] =
                $"{floor.TotalSeconds:0.00} s ({flops / peak:0.00} s + {poll.TotalSeconds:0.00} s)",
            ["the embedding child's rate (median CPU per listing against its arithmetic)"] =
                $"{flops / childCpu / 1e9:0.0} GFLOP/s per core busy, {flops / childCpu / peakPerCore:P0} of a core's peak",
        };
        return
        [
            new BenchmarkResult("time-to-inbox", $"seconds, APPEND to first digest accepted, median of {listings.Count} listings",
                Math.Round(median.TotalSeconds, 2), "s",
                Baseline: "floor: the model's arithmetic for a listing at this machine's measured peak, plus the poll's median",
                BaselineValue: Math.Round(floor.TotalSeconds, 2), Ratio: Math.Round(median / floor, 2), Target: $"under {TargetMedian.TotalSeconds:0} s", TargetMet: median < TargetMedian, Details: details),
            new BenchmarkResult("time-to-inbox", $"seconds, APPEND to first digest accepted, worst of {listings.Count} listings",
                Math.Round(worst.TotalSeconds, 2), "s", Target: $"under {TargetWorst.TotalSeconds:0} s", TargetMet: worst < TargetWorst),
        ];
    }

    /// <summary>Appends one listing and waits until every digest of it is out: the next listing finds the worker idle.</summary>
    private static async Task<Listing> AppendAndWaitAsync(ImapClient imap, AppProcess worker, NpgsqlDataSource db, MimeMessage message)
    {
        var day = DateOnly.FromDateTime(message.Date.UtcDateTime);
        var appendedAt = DateTimeOffset.UtcNow;
        await imap.Inbox.AppendAsync(new AppendRequest(message));
        DateTimeOffset? firstSent = null;
        await WaitAsync(worker, async () => (firstSent = await FirstSentAsync(db, day)) is not null, $"the first digest of {day:yyyy-MM-dd}");
        await WaitAsync(worker, () => SentOutAsync(db, day), $"every digest of {day:yyyy-MM-dd}");
        return await PhasesAsync(db, day, appendedAt, firstSent!.Value);
    }

    /// <summary>
    /// The listing with every paper's title ending in its day: new papers (a paper without an arXiv id is known by its
    /// title), of the sample's lengths, so each day's are embedded as a real day's would be. Checked by the service's parser.
    /// </summary>
    internal static MimeMessage NewPapers(byte[] listing, int day)
    {
        var message = MimeMessage.Load(new MemoryStream(listing));
        var titles = new TrendingEmailParser().Parse(message).Papers.Select(p => p.Title).ToList();
        foreach (var part in message.BodyParts.OfType<TextPart>())
        {
            var text = part.Text;
            foreach (var title in titles)
            {
                var encoded = part.IsHtml ? WebUtility.HtmlEncode(title) : title;
                text = text.Replace(encoded, $"{encoded} (day {day})", StringComparison.Ordinal);
            }
            part.SetText(part.ContentType.Charset ?? "utf-8", text);
        }
        var changed = new TrendingEmailParser().Parse(message).Papers;
        if (changed.Count != titles.Count || changed.Any(p => !p.Title.EndsWith($"(day {day})", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException($"The sample on day {day}: {changed.Count(p => p.Title.EndsWith($"(day {day})", StringComparison.Ordinal))} of {titles.Count} titles changed.");
        }
        return message;
    }

    private static void Progress(string message) => Console.Error.WriteLine($"[time-to-inbox {DateTime.Now:HH:mm:ss}] {message}");

    /// <summary>One listing's times, each from its APPEND.</summary>
    private sealed record Listing(TimeSpan Stored, TimeSpan FannedOut, TimeSpan Total, long Sent);

    private static async Task<Listing> PhasesAsync(NpgsqlDataSource db, DateOnly day, DateTimeOffset appendedAt, DateTimeOffset firstSent)
    {
        await using var command = db.CreateCommand(
            """
            select m.received_at, g.fanned_out_at, (select count(*) from deliveries d where d.issue_id = i.id and d.status = 'sent')
            from issues i
            join inbound_messages m on m.id = i.inbound_message_id
            join delivery_generations g on g.issue_id = i.id and g.generation = 1
            where i.issue_date = @day
            """);
        command.Parameters.AddWithValue("day", day);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            throw new InvalidOperationException($"The issue of {day:yyyy-MM-dd} has no inbound message or generation.");
        }
        return new Listing(Since(reader.GetDateTime(0)), Since(reader.GetDateTime(1)), firstSent - appendedAt, reader.GetInt64(2));

        TimeSpan Since(DateTime utc) => new DateTimeOffset(utc, TimeSpan.Zero) - appendedAt;
    }

    /// <summary>When smtp-sink accepted the issue's first digest, as the worker recorded it; null before that.</summary>
    private static async Task<DateTimeOffset?> FirstSentAsync(NpgsqlDataSource db, DateOnly day)
    {
        await using var command = db.CreateCommand(
            "select min(d.sent_at) from deliveries d join issues i on i.id = d.issue_id where i.issue_date = @day");
        command.Parameters.AddWithValue("day", day);
        return await command.ExecuteScalarAsync() is DateTime first ? new DateTimeOffset(first, TimeSpan.Zero) : null;
    }

    private static async Task<bool> SentOutAsync(NpgsqlDataSource db, DateOnly day)
    {
        await using var command = db.CreateCommand(
            """
            select g.fanned_out_at is not null
               and not exists (select 1 from deliveries d where d.issue_id = i.id and d.status in ('pending', 'sending'))
            from issues i join delivery_generations g on g.issue_id = i.id and g.generation = 1
            where i.issue_date = @day
            """);
        command.Parameters.AddWithValue("day", day);
        return await command.ExecuteScalarAsync() is true;
    }

    /// <summary>Checks every 50 ms (a measured time is read from the ledger, not from when this notices it), up to <see cref="Deadline"/>.</summary>
    private static async Task WaitAsync(AppProcess worker, Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (worker.HasExited || clock.Elapsed > Deadline)
            {
                throw new InvalidOperationException($"Waiting for {what}: the worker {(worker.HasExited ? "exited" : "did not get there in " + Deadline)}; see its log in BENCH_WORK.");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
    }

    private static async Task<object?> ScalarAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        return await command.ExecuteScalarAsync();
    }

    private static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Seconds(IEnumerable<TimeSpan> values) =>
        string.Join(", ", values.Select(v => v.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)));
}
