using System.Diagnostics;
using System.Globalization;
using Newsletter.Benchmarks.Support;
using Newsletter.Digests;
using Newsletter.Relevance;
using Newsletter.Subscribers;

namespace Newsletter.Benchmarks.Scenarios;

/// <summary>
/// Relevance at fan-out scale: every subscriber has a profile (their line read for meaning and 25 votes) and
/// <see cref="IssuePlanner"/>, the code FanOutJob runs for each reader, ranks their keyword matches, hides and
/// suggests; against the keyword-only plan (what the fan-out does for a reader without a profile) of the same readers,
/// timed interleaved with it. The readers are planned in the fan-out's order (by line), their data laid out in memory
/// as the service loads it. Each timed run starts, as <see cref="DigestPlanner.PlanAsync"/> does, from a new
/// <see cref="IssueMatcher"/> (no term resolved yet) and a new <see cref="IssueSimilarities"/>; so does the baseline,
/// as the matching scenario does. The vectors are synthetic but shaped like MiniLM's (topics, unit length, 384 dimensions):
/// the cost depends on their count and size, not on what they mean.
/// </summary>
public static class ScoringBenchmark
{
    private const double TargetMs = 300;
    private const int Dimensions = 384;
    private const int Topics = 16;
    private const int EarlierPapers = 500;
    private const int Repeats = 5;

    public static BenchmarkResult Run(string listingTxtPath, int subscribers = 100_000, int votesPerReader = 25, int seed = 42)
    {
        var papers = MatchingBenchmark.ReadListing(listingTxtPath);
        var lines = MatchingBenchmark.GenerateInterests(papers, subscribers, seed);
        var cache = new InterestQueryCache();
        var queries = lines.Select(cache.GetOrParse).ToArray();
        var sharedLines = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var s = 0; s < lines.Length; s++)
        {
            // Readers of one line hold one string, as the fan-out reads them (DigestPlanner.ReadRecipientsAsync).
            lines[s] = sharedLines.TryAdd(lines[s], lines[s]) ? lines[s] : sharedLines[lines[s]];
        }

        // A fan-out reads its readers in the order of their lines (DeliveryGenerations: `order by interests collate "C", id`),
        // and so are its lines' vectors and its readers' votes read; the timed runs plan the readers in that order.
        var fanOutOrder = Enumerable.Range(0, lines.Length).OrderBy(s => lines[s], StringComparer.Ordinal).ThenBy(s => s).ToArray();
        // The planner parses each line the first time a reader of it is planned; here it finds the line parsed (in the
        // same order, so in memory as a parse would leave it), and the timings stay what they measured before the planner
        // parsed: matching, ranking, hiding and suggesting.
        var parsedLines = new Dictionary<string, InterestQuery>(StringComparer.Ordinal);
        foreach (var s in fanOutOrder)
        {
            if (!parsedLines.ContainsKey(lines[s]))
            {
                parsedLines[lines[s]] = InterestQuery.Parse(lines[s]);
            }
        }

        IssuePlanner.LineParser parse = (string line, out string? error) =>
        {
            error = null;
            return parsedLines[line];
        };
        var matcher = new IssueMatcher(papers);

        var random = new Random(seed);
        var centres = Enumerable.Range(0, Topics).Select(_ => Gaussian(random, 1)).ToArray();
        var common = Gaussian(random, 0.5f);
        var paperTopics = papers.Select(_ => random.Next(Topics)).ToArray();
        var paperVectors = paperTopics.Select(t => Around(random, centres[t], common)).ToArray();
        // The fan-out standardises closeness with the listing before the issue (RelevanceStore.LoadForFanOutAsync): as many
        // papers again, on the same topics.
        var listingBefore = papers.Select(_ => Around(random, centres[random.Next(Topics)], common)).ToArray();
        var issueVectors = new IssueVectors(papers.Select((p, i) => (p.PaperId, paperVectors[i])).ToArray(), listingBefore);

        // A line's vector lies near the papers it matches (or a random topic's), as a sentence model would put it.
        var lineVectors = new Dictionary<string, Embedding>(StringComparer.Ordinal);
        var lineTopics = new Dictionary<InterestQuery, int>(ReferenceEqualityComparer.Instance);
        foreach (var query in queries.Distinct(ReferenceEqualityComparer.Instance).Cast<InterestQuery>())
        {
            var matched = matcher.Match(query);
            var topic = matched.Count > 0 ? paperTopics[matched[0].Position] : random.Next(Topics);
            lineTopics[query] = topic;
            var text = TextEmbedder.InterestsText(query);
            if (text.Length > 0)
            {
                lineVectors[text] = Around(random, centres[topic], common);
            }
        }

        // The lines' vectors come in the readers' order (RelevanceStore.LoadForFanOutAsync), so their rows lie in the order
        // the readers are planned.
        lineVectors = fanOutOrder.Select(s => TextEmbedder.InterestsText(queries[s])).Where(lineVectors.ContainsKey)
            .Distinct(StringComparer.Ordinal).ToDictionary(text => text, text => lineVectors[text], StringComparer.Ordinal);

        // Votes on earlier issues' papers: "More" on the reader's topic, "Less" on others; one vote object per paper
        // and direction, and one slot per paper, as RelevanceStore.VotesAsync shares and numbers them.
        var earlierTopics = Enumerable.Range(0, EarlierPapers).Select(_ => random.Next(Topics)).ToArray();
        var earlier = earlierTopics.Select((t, i) => (Id: 1_000_000L + i, Vector: Around(random, centres[t], common))).ToArray();
        var lists = new List<ProfileVote>[subscribers];
        var cast = new Dictionary<(long, bool), ProfileVote>();
        for (var s = 0; s < subscribers; s++)
        {
            var topic = lineTopics[queries[s]];
            var list = new List<ProfileVote>(votesPerReader);
            var seen = new HashSet<long>();
            while (list.Count < votesPerReader)
            {
                var k = random.Next(EarlierPapers);
                if (!seen.Add(earlier[k].Id))
                {
                    continue;
                }
                var more = earlierTopics[k] == topic || random.Next(4) == 0;
                if (!cast.TryGetValue((earlier[k].Id, more), out var vote))
                {
                    cast[(earlier[k].Id, more)] = vote = new ProfileVote(earlier[k].Id, $"Earlier paper {k}", earlier[k].Vector, more) { Slot = k };
                }
                list.Add(vote);
            }
            lists[s] = list;
        }

        // RelevanceStore.VotesAsync reads the readers' votes in the fan-out's order too.
        var votes = new Dictionary<long, ProfileVotes>(subscribers);
        foreach (var s in fanOutOrder)
        {
            votes[1 + s] = new ProfileVotes(lists[s]);
        }

        var inOrder = fanOutOrder.Select(s => Recipient(s, lines[s])).ToArray();

        // Warm-up: the JIT promotes the hot loops to optimised code over the first runs.
        for (var w = 0; w < 3; w++)
        {
            PlanAll(papers, issueVectors, lineVectors, votes, inOrder, parse);
            KeywordsOnly(papers, queries);
        }

        var ours = new List<double>();
        var baseline = new List<double>();
        var cpu = new List<double>();
        var collections = new List<string>();
        var pauses = new List<double>();
        var prepare = new List<double>();
        var again = new List<double>();
        var againCpu = new List<double>();
        var parallel = new List<double>();
        var parallelCpu = new List<double>();
        var parallelCollections = new List<string>();
        long allocated = 0;
        Outcome outcome = default;
        for (var r = 0; r < Repeats; r++)
        {
            // A B A B: the machine is shared, so each run of ours sits beside a run of the baseline.
            Settle();
            var before = GC.GetTotalAllocatedBytes(precise: true);
            var collectionsFrom = GcCollections.Now();
            var pausedBefore = GC.GetTotalPauseDuration();
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            (outcome, IssuePlanner? planned) = PlanAll(papers, issueVectors, lineVectors, votes, inOrder, parse);
            clock.Stop();
            cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds);
            allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            collections.Add(collectionsFrom.Since());
            pauses.Add((GC.GetTotalPauseDuration() - pausedBefore).TotalMilliseconds);
            ours.Add(clock.Elapsed.TotalMilliseconds);
            prepare.Add(outcome.PreparedMs);
            cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            clock.Restart();
            PlanAgain(planned, lines, fanOutOrder);
            // The next run starts without this planner, as the next fan-out starts without the previous one's.
            planned = null;
            again.Add(clock.Elapsed.TotalMilliseconds);
            againCpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds);

            Settle();
            clock.Restart();
            KeywordsOnly(papers, queries);
            clock.Stop();
            baseline.Add(clock.Elapsed.TotalMilliseconds);

            Settle();
            collectionsFrom = GcCollections.Now();
            cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            clock.Restart();
            PlanAllInParallel(papers, issueVectors, lineVectors, votes, lines, fanOutOrder, parse);
            clock.Stop();
            parallel.Add(clock.Elapsed.TotalMilliseconds);
            parallelCpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds);
            parallelCollections.Add(collectionsFrom.Since());
        }

        // What readers get, outside the timings: one reader at a time (as timed) and in parallel chunks (as FanOutJob runs).
        var planner = NewPlanner(papers, issueVectors, lineVectors, votes, parse);
        var scratch = new IssuePlanner.PlanningScratch();
        var oneByOne = new PlansFingerprint();
        for (var s = 0; s < lines.Length; s++)
        {
            oneByOne.Add(planner.Plan(Recipient(s, lines[s]), null, scratch));
        }
        var inChunks = new PlansFingerprint();
        var readers = lines.Select((line, s) => Recipient(s, line)).ToArray();
        foreach (var plan in NewPlanner(papers, issueVectors, lineVectors, votes, parse).PlanAll(readers, NoneReceived))
        {
            inChunks.Add(plan);
        }

        var value = Statistics.Median(ours);
        var baselineMs = Statistics.Median(baseline);
        return new BenchmarkResult(
            Scenario: "scoring",
            Metric: $"match/rank/hide/suggest {subscribers:N0} profiles ({votesPerReader} votes) against {papers.Count} papers, 1 thread",
            Value: Math.Round(value, 1),
            Unit: "ms",
            Baseline: "keyword-only plans of the same readers (a new IssueMatcher, MatchPaperIds), interleaved",
            BaselineValue: Math.Round(baselineMs, 1),
            Ratio: Math.Round(value / baselineMs, 2),
            Target: $"under {TargetMs} ms",
            TargetMet: value < TargetMs,
            Details: new Dictionary<string, string>
            {
                ["per subscriber"] = BenchEnvironment.Format(value * 1000 / subscribers, "µs"),
                ["runs (ms, 1 thread)"] = Join(ours),
                ["of which the matcher (tokenising the issue) and the planner (every line's and voted paper's row) (ms)"] = Join(prepare),
                ["the same readers again through the same planner, lines already read (ms)"] = Join(again),
                ["process CPU time of those runs again (ms)"] = Join(againCpu),
                ["baseline runs (ms, 1 thread)"] = Join(baseline),
                ["parallel, all cores (median ms)"] = BenchEnvironment.Format(Statistics.Median(parallel), "ms"),
                ["parallel runs (ms)"] = Join(parallel),
                ["process CPU time of the parallel runs (ms)"] = Join(parallelCpu),
                ["garbage collections in each parallel run (gen0/gen1/gen2)"] = string.Join(", ", parallelCollections),
                ["process CPU time of the 1-thread runs (ms)"] = Join(cpu),
                ["garbage collections in each 1-thread run (gen0/gen1/gen2)"] = string.Join(", ", collections),
                ["garbage collection pauses in each 1-thread run (ms)"] = Join(pauses),
                ["allocated per subscriber, every thread (bytes; the plan's own arrays and the lines' rows included)"] = BenchEnvironment.Format((double)allocated / subscribers, "B"),
                ["distinct lines embedded"] = lineVectors.Count.ToString(CultureInfo.InvariantCulture),
                ["papers shown per subscriber"] = BenchEnvironment.Format((double)outcome.Shown / subscribers),
                ["suggestions per subscriber"] = BenchEnvironment.Format((double)outcome.Suggested / subscribers),
                ["hidden matches per subscriber"] = BenchEnvironment.Format((double)outcome.Hidden / subscribers),
                ["plans fingerprint (papers in order, suggestions, hidden, reasons, scores, notes), 1 thread"] = oneByOne.ToString(),
                ["plans fingerprint, parallel chunks"] = inChunks.ToString(),
                ["cores"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
                ["load average at the end"] = BenchEnvironment.LoadAverage(),
            });
    }

    private static readonly Dictionary<long, HashSet<long>> NoneReceived = [];

    private static PlanRecipient Recipient(int s, string line) => new(1 + s, line, 5, NoRepeats: false);

    /// <summary>A hash of every plan in order (FNV-1a over its fields), the same from run to run: equal fingerprints
    /// before and after a change say the readers' digests did not change.</summary>
    private sealed class PlansFingerprint
    {
        private ulong _hash = 14695981039346656037;

        public void Add(DeliveryPlan plan)
        {
            Mix(plan.SubscriberId);
            Mix(BitConverter.SingleToInt32Bits(plan.Score));
            Mix(plan.Note ?? "(none)");
            Mix(plan.PaperIds);
            Mix(plan.SuggestedIds);
            Mix(plan.HiddenIds);
            Mix(plan.Reasons.Length);
            foreach (var reason in plan.Reasons)
            {
                Mix(reason);
            }
        }

        public override string ToString() => _hash.ToString("x16", CultureInfo.InvariantCulture);

        private void Mix(long[] values)
        {
            Mix(values.Length);
            foreach (var value in values)
            {
                Mix(value);
            }
        }

        private void Mix(string text)
        {
            Mix(text.Length);
            foreach (var c in text)
            {
                Mix((long)c);
            }
        }

        private void Mix(long value)
        {
            for (var b = 0; b < 8; b++)
            {
                _hash = (_hash ^ (byte)(value >> (8 * b))) * 1099511628211;
            }
        }
    }

    /// <summary>The issue's papers and the listing before it, as a fan-out loads them.</summary>
    private sealed record IssueVectors((long PaperId, Embedding Vector)[] Papers, Embedding[] Before);

    private readonly record struct Outcome(long Shown, long Suggested, long Hidden, double PreparedMs);

    /// <summary>The readers again through a planner that has seen their lines: what a reader costs beyond their line.</summary>
    private static void PlanAgain(IssuePlanner planner, string[] lines, int[] order)
    {
        var scratch = new IssuePlanner.PlanningScratch();
        foreach (var s in order)
        {
            planner.Plan(Recipient(s, lines[s]), null, scratch);
        }
    }

    /// <summary>What FanOutJob does for an issue: a matcher and one planner (it computes every line's and voted paper's
    /// row), then every line (as PlanAll does), then every reader.</summary>
    private static (Outcome Outcome, IssuePlanner Planner) PlanAll(List<MatchablePaper> papers, IssueVectors issueVectors,
        Dictionary<string, Embedding> lineVectors, Dictionary<long, ProfileVotes> votes, PlanRecipient[] readers, IssuePlanner.LineParser parse)
    {
        var clock = Stopwatch.StartNew();
        var planner = NewPlanner(papers, issueVectors, lineVectors, votes, parse);
        var prepared = clock.Elapsed.TotalMilliseconds;
        long shown = 0, suggested = 0, hidden = 0;
        // PlanAll as the fan-out runs it (its lines first, then its readers a chunk at a time), here on this thread.
        foreach (var plan in planner.PlanAll(readers, NoneReceived, new ParallelOptions { MaxDegreeOfParallelism = 1 }))
        {
            shown += plan.PaperIds.Length;
            suggested += plan.SuggestedIds.Length;
            hidden += plan.HiddenIds.Length;
        }

        return (new Outcome(shown, suggested, hidden, prepared), planner);
    }

    /// <summary>What <see cref="DigestPlanner.PlanAsync"/> builds per fan-out: a new matcher, the issue's similarities, the lines' rows.</summary>
    private static IssuePlanner NewPlanner(List<MatchablePaper> papers, IssueVectors issueVectors, Dictionary<string, Embedding> lineVectors,
        Dictionary<long, ProfileVotes> votes, IssuePlanner.LineParser parse)
    {
        var issue = new IssueSimilarities(issueVectors.Papers, issueVectors.Before);
        return new IssuePlanner(new IssueMatcher(papers), issue, LineRows.Of(issue, lineVectors), votes, parse);
    }

    /// <summary>As FanOutJob runs it: <see cref="IssuePlanner.PlanAll"/>, chunks of readers on every core.</summary>
    private static void PlanAllInParallel(List<MatchablePaper> papers, IssueVectors issueVectors, Dictionary<string, Embedding> lineVectors,
        Dictionary<long, ProfileVotes> votes, string[] lines, int[] order, IssuePlanner.LineParser parse)
    {
        var planner = NewPlanner(papers, issueVectors, lineVectors, votes, parse);
        var readers = order.Select(s => Recipient(s, lines[s])).ToArray();
        foreach (var plan in planner.PlanAll(readers, NoneReceived))
        {
            _ = plan;
        }
    }

    /// <summary>The fan-out's plan for a reader without a profile: the keyword matches alone, from a new matcher.</summary>
    private static long KeywordsOnly(List<MatchablePaper> papers, InterestQuery[] queries)
    {
        var matcher = new IssueMatcher(papers);
        long shown = 0;
        for (var s = 0; s < queries.Length; s++)
        {
            var ids = matcher.MatchPaperIds(queries[s], out var score);
            var plan = ids.Length == 0
                ? new DeliveryPlan(1 + s, [], 0, "no paper matched the interests")
                : new DeliveryPlan(1 + s, ids, (float)score, null);
            shown += plan.PaperIds.Length;
        }

        return shown;
    }

    private static float[] Gaussian(Random random, float scale)
    {
        var values = new float[Dimensions];
        for (var i = 0; i < values.Length; i++)
        {
            // Box-Muller; the norm comes out near scale.
            var u = 1 - random.NextDouble();
            values[i] = (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * random.NextDouble()) * scale / Math.Sqrt(Dimensions));
        }

        return values;
    }

    /// <summary>A unit vector near a topic: same-topic cosines near 0.5, others near 0.2, as MiniLM's for papers.</summary>
    private static Embedding Around(Random random, float[] centre, float[] common)
    {
        var noise = Gaussian(random, 1);
        for (var i = 0; i < noise.Length; i++)
        {
            noise[i] += centre[i] + common[i];
        }

        return Embedding.Normalize(noise);
    }

    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static string Join(List<double> values) =>
        string.Join(", ", values.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)));
}
