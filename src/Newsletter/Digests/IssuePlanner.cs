using System.Collections.Concurrent;
using Newsletter.Database;
using Newsletter.Relevance;
using Newsletter.Subscribers;

namespace Newsletter.Digests;

/// <summary>
/// Decides each reader's delivery of one set of papers (an issue, or a week's): the keyword matches, ranked, hidden and
/// completed with suggestions by the reader's profile (their line read for meaning and their votes), without the
/// papers a reader who chose no repeats was sent before. One per fan-out (made by <see cref="DigestPlanner"/>), shared
/// by the threads that plan; each thread passes its own <see cref="DigestRanking"/>, so a reader costs no allocation
/// beyond their plan.
/// </summary>
public sealed class IssuePlanner
{
    private readonly IssueMatcher _matcher;
    private readonly IssueSimilarities _similarities;
    private readonly LineRows _lines;
    private readonly IReadOnlyDictionary<long, ProfileVotes> _votes;
    private readonly ConcurrentDictionary<long, string> _likedReasons = new();
    private readonly PlannedLines _plannedLines;
    private readonly LineParser _parse;
    /// <summary>Each matcher paper's position among the papers with a vector (-1: none yet), by matcher position.</summary>
    private readonly int[] _vectorPositions;

    /// <summary>Reads a stored keyword line: the query, or null and the parser's error.</summary>
    public delegate InterestQuery? LineParser(string line, out string? error);

    /// <param name="lines">The readers' lines' rows against <paramref name="similarities"/>' papers.</param>
    /// <param name="parse">Reads a line the first time one of its readers is planned (for a fan-out, without the process's <see cref="InterestQueryCache"/>).</param>
    public IssuePlanner(IssueMatcher matcher, IssueSimilarities similarities, LineRows lines, IReadOnlyDictionary<long, ProfileVotes> votes,
        LineParser parse)
    {
        ArgumentNullException.ThrowIfNull(matcher);
        ArgumentNullException.ThrowIfNull(similarities);
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(votes);
        ArgumentNullException.ThrowIfNull(parse);
        _parse = parse;
        _matcher = matcher;
        _similarities = similarities;
        _lines = lines;
        _votes = votes;
        _plannedLines = new PlannedLines(lines.Count);
        _vectorPositions = new int[matcher.PaperCount];
        for (var p = 0; p < _vectorPositions.Length; p++)
        {
            _vectorPositions[p] = similarities.PositionOf(matcher.PaperIdAt(p));
        }

        similarities.PrepareVotes(DistinctVotes(votes.Values));
    }

    /// <summary>Readers planned at a time, on every core; the ledger takes each chunk while the next is planned.</summary>
    public const int ChunkSize = 8192;

    /// <summary>
    /// Every reader's delivery, in order, planned in parallel a chunk at a time; <paramref name="received"/> holds, for
    /// readers who chose no repeats, the papers they were sent before.
    /// </summary>
    public IEnumerable<DeliveryPlan> PlanAll(IReadOnlyList<PlanRecipient> readers, IReadOnlyDictionary<long, HashSet<long>> received) =>
        // One thread per core: more (the pool may have them) only take turns on the cores and each other's caches.
        PlanAll(readers, received, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount });

    /// <inheritdoc cref="PlanAll(IReadOnlyList{PlanRecipient}, IReadOnlyDictionary{long, HashSet{long}})"/>
    internal IEnumerable<DeliveryPlan> PlanAll(IReadOnlyList<PlanRecipient> readers, IReadOnlyDictionary<long, HashSet<long>> received,
        ParallelOptions parallel)
    {
        ArgumentNullException.ThrowIfNull(readers);
        ArgumentNullException.ThrowIfNull(received);
        var lineNumbers = PlanLines(readers, parallel);
        var plans = new DeliveryPlan[Math.Min(ChunkSize, readers.Count)];
        for (var start = 0; start < readers.Count; start += ChunkSize)
        {
            var count = Math.Min(ChunkSize, readers.Count - start);
            PlanChunk(readers, lineNumbers, received, start, count, plans, parallel);
            for (var k = 0; k < count; k++)
            {
                yield return plans[k];
                plans[k] = null!;
            }
        }
    }

    /// <summary>
    /// Works out each distinct line of <paramref name="readers"/> before any of them is ranked, and returns each reader's
    /// line number: matching the lines one after another keeps the matcher's terms in the cache, where between two readers'
    /// rankings they were not (a fan-out's first readers of its lines took about a fifth longer).
    /// </summary>
    private int[] PlanLines(IReadOnlyList<PlanRecipient> readers, ParallelOptions parallel)
    {
        var numbers = new int[readers.Count];
        var firstNew = _plannedLines.Count;
        var newLines = new List<string>();
        string? last = null;
        var number = -1;
        for (var r = 0; r < readers.Count; r++)
        {
            var text = readers[r].Interests;
            // A fan-out's readers come in the order of their lines, each line one string; a line seen again is a look-up.
            if (!ReferenceEquals(text, last))
            {
                last = text;
                number = _plannedLines.Reserve(text, out var added);
                if (added)
                {
                    newLines.Add(text);
                }
            }
            numbers[r] = number;
        }

        if (newLines.Count > 0)
        {
            Parallel.ForEach(Partitioner.Create(0, newLines.Count, 1024), parallel, range =>
            {
                var writer = new PlannedLines.MatchWriter();
                for (var k = range.Item1; k < range.Item2; k++)
                {
                    _plannedLines.Set(firstNew + k, WorkOut(newLines[k], writer));
                }
            });
        }

        return numbers;
    }

    private void PlanChunk(IReadOnlyList<PlanRecipient> readers, int[] lineNumbers, IReadOnlyDictionary<long, HashSet<long>> received, int start,
        int count, DeliveryPlan[] plans, ParallelOptions parallel) =>
        Parallel.ForEach(Partitioner.Create(0, count, 1024), parallel, range =>
        {
            var scratch = new PlanningScratch();
            for (var k = range.Item1; k < range.Item2; k++)
            {
                var reader = readers[start + k];
                plans[k] = Plan(reader, in _plannedLines[lineNumbers[start + k]],
                    reader.NoRepeats ? received.GetValueOrDefault(reader.SubscriberId) : null, scratch);
            }
        });

    /// <summary>
    /// What one thread reuses from reader to reader: the ranking's buffers, where it keeps the matches of the lines it
    /// works out, and the line it planned last (readers come in the order of their lines, so most readers' line is the one
    /// before theirs).
    /// </summary>
    public sealed class PlanningScratch
    {
        public DigestRanking Ranking { get; } = new();

        internal PlannedLines.MatchWriter Matches { get; } = new();

        internal IssuePlanner? LastPlanner { get; set; }

        internal string? LastText { get; set; }

        internal int LastNumber { get; set; }
    }

    /// <summary>
    /// The delivery of one reader, their line looked up or worked out (not while <see cref="PlanAll(IReadOnlyList{PlanRecipient}, IReadOnlyDictionary{long, HashSet{long}})"/>
    /// runs, nor on two threads at once); <paramref name="received"/>: papers to leave out, sent to them before.
    /// </summary>
    public DeliveryPlan Plan(PlanRecipient reader, HashSet<long>? received, PlanningScratch scratch)
    {
        ArgumentNullException.ThrowIfNull(scratch);
        int number;
        if (ReferenceEquals(reader.Interests, scratch.LastText) && ReferenceEquals(scratch.LastPlanner, this))
        {
            number = scratch.LastNumber;
        }
        else
        {
            number = _plannedLines.Reserve(reader.Interests, out var added);
            if (added)
            {
                _plannedLines.Set(number, WorkOut(reader.Interests, scratch.Matches));
            }
            scratch.LastPlanner = this;
            scratch.LastText = reader.Interests;
            scratch.LastNumber = number;
        }

        return Plan(reader, in _plannedLines[number], received, scratch);
    }

    private DeliveryPlan Plan(PlanRecipient reader, in PlannedLines.Line line, HashSet<long>? received, PlanningScratch scratch)
    {
        var ranking = scratch.Ranking;
        var subscriberId = reader.SubscriberId;
        if (line.Error is { } error)
        {
            // Stored interests are validated on the way in; if one still fails, the ledger says so.
            return new DeliveryPlan(subscriberId, [], 0, $"interests could not be read: {error}");
        }

        var nothing = received is null ? "no paper matched the interests" : "no paper matched the interests that was not sent before";
        var readerVotes = _votes.GetValueOrDefault(subscriberId);
        scoped ReadOnlySpan<int> matches = line.MatchPositions;
        scoped ReadOnlySpan<double> scores = line.MatchScores;
        scoped ReadOnlySpan<bool> inTitle = line.MatchInTitle;
        var papers = _matcher.PaperCount;
        if (received is not null)
        {
            var keptMatches = papers <= 128 ? stackalloc int[papers] : new int[papers];
            var keptScores = papers <= 128 ? stackalloc double[papers] : new double[papers];
            var keptInTitle = papers <= 128 ? stackalloc bool[papers] : new bool[papers];
            var kept = WithoutReceived(in line, received, keptMatches, keptScores, keptInTitle);
            matches = keptMatches[..kept];
            scores = keptScores[..kept];
            inTitle = keptInTitle[..kept];
        }

        if (line.Row < 0 && readerVotes is null)
        {
            // Nothing to read for meaning (a line not embedded yet, or no positive term) and no votes: keywords alone.
            double total = 0;
            foreach (var score in scores)
            {
                total += score;
            }

            return matches.IsEmpty ? new DeliveryPlan(subscriberId, [], 0, nothing) : new DeliveryPlan(subscriberId, IdsOf(matches), (float)total, null);
        }

        // Where each match is among the papers with a vector, as the ranker reads them.
        var vectorPositions = papers <= 128 ? stackalloc int[matches.Length] : new int[matches.Length];
        for (var m = 0; m < matches.Length; m++)
        {
            vectorPositions[m] = _vectorPositions[matches[m]];
        }

        var unsuggestible = received is null ? line.Unsuggestible : WithReceived(line.Unsuggestible, received);
        var interests = line.Row < 0 ? default : _lines.Row(line.Row);
        DigestRanker.Rank(_similarities, interests, readerVotes ?? ProfileVotes.None, vectorPositions, scores, inTitle, unsuggestible, reader.Suggestions, ranking);
        var shownMatches = ranking.ShownMatches;
        var suggested = ranking.Suggestions;
        var hidden = ranking.HiddenMatches;
        var hiddenIds = hidden.Length == 0 ? [] : new long[hidden.Length];
        for (var k = 0; k < hidden.Length; k++)
        {
            hiddenIds[k] = _matcher.PaperIdAt(matches[hidden[k]]);
        }

        if (shownMatches.Length + suggested.Length == 0)
        {
            return new DeliveryPlan(subscriberId, [], 0,
                hidden.Length > 0 ? "every match looks like papers the reader voted down" : nothing)
            {
                HiddenIds = hiddenIds,
            };
        }

        var shown = new long[shownMatches.Length + suggested.Length];
        var reasons = new string[shown.Length];
        var suggestedIds = suggested.Length == 0 ? [] : new long[suggested.Length];
        double sum = 0;
        for (var k = 0; k < shownMatches.Length; k++)
        {
            shown[k] = _matcher.PaperIdAt(matches[shownMatches[k]]);
            reasons[k] = "";
            sum += scores[shownMatches[k]];
        }

        for (var k = 0; k < suggested.Length; k++)
        {
            var id = _similarities.PaperIds[suggested[k]];
            shown[shownMatches.Length + k] = suggestedIds[k] = id;
            reasons[shownMatches.Length + k] = ranking.SuggestionLikedPaper(k) is { } liked ? LikedReason(liked) : InterestsReason;
        }

        return new DeliveryPlan(subscriberId, shown, (float)sum, null)
        {
            SuggestedIds = suggestedIds,
            HiddenIds = hiddenIds,
            Reasons = reasons,
        };
    }

    /// <summary>Copies the line's matches, kept in order, but the papers in <paramref name="received"/>; returns how many stay.</summary>
    private int WithoutReceived(in PlannedLines.Line line, HashSet<long> received, Span<int> keptMatches, Span<double> keptScores, Span<bool> keptInTitle)
    {
        var matches = line.MatchPositions;
        var kept = 0;
        for (var k = 0; k < matches.Length; k++)
        {
            if (!received.Contains(_matcher.PaperIdAt(matches[k])))
            {
                keptMatches[kept] = matches[k];
                keptScores[kept] = line.MatchScores[k];
                keptInTitle[kept] = line.MatchInTitle[k];
                kept++;
            }
        }

        return kept;
    }

    /// <summary>The ids of the matched papers (positions in the matcher's issue), in order.</summary>
    private long[] IdsOf(ReadOnlySpan<int> matches)
    {
        var ids = new long[matches.Length];
        for (var k = 0; k < ids.Length; k++)
        {
            ids[k] = _matcher.PaperIdAt(matches[k]);
        }

        return ids;
    }

    /// <summary>The line's unsuggestible papers and the papers in <paramref name="received"/>, by position in the issue.</summary>
    private bool[] WithReceived(bool[] unsuggestible, HashSet<long> received)
    {
        var excluded = new bool[_similarities.PaperCount];
        unsuggestible.CopyTo(excluded, 0);
        foreach (var id in received)
        {
            if (_similarities.PositionOf(id) is var i and >= 0)
            {
                excluded[i] = true;
            }
        }

        return excluded;
    }

    /// <summary>The line's row, -term mask and matches, worked out for the first of its readers; the query is parsed
    /// then and dropped after, so a fan-out never holds every reader's parsed line at once.</summary>
    private PlannedLines.Line WorkOut(string interests, PlannedLines.MatchWriter writer)
    {
        if (_parse(interests, out var error) is not { } query)
        {
            return PlannedLines.Line.Unreadable(error ?? "unknown error");
        }

        var papers = _matcher.PaperCount;
        var matches = papers <= 128 ? stackalloc int[papers] : new int[papers];
        var scores = papers <= 128 ? stackalloc double[papers] : new double[papers];
        var inTitle = papers <= 128 ? stackalloc bool[papers] : new bool[papers];
        var matched = _matcher.MatchInto(query, matches, scores, inTitle);
        return writer.Write(_lines.RowStart(query), SuggestionFilter.Unsuggestible(_matcher, _similarities, query), matches[..matched],
            scores[..matched], inTitle[..matched]);
    }

    private static List<ProfileVote> DistinctVotes(IEnumerable<ProfileVotes> readers)
    {
        var distinct = new List<ProfileVote>();
        var seenSlots = new List<bool>();
        var seen = new HashSet<ProfileVote>(ReferenceEqualityComparer.Instance);
        foreach (var reader in readers)
        {
            foreach (var vote in reader.Liked)
            {
                Add(vote);
            }

            foreach (var vote in reader.Disliked)
            {
                Add(vote);
            }
        }

        return distinct;

        void Add(ProfileVote vote)
        {
            // Votes loaded together are numbered: a look-up by slot instead of a hash of every reader's every vote.
            if (vote.Slot >= 0)
            {
                while (seenSlots.Count <= vote.Slot)
                {
                    seenSlots.Add(false);
                }

                if (!seenSlots[vote.Slot])
                {
                    seenSlots[vote.Slot] = true;
                    distinct.Add(vote);
                }
            }
            else if (seen.Add(vote))
            {
                distinct.Add(vote);
            }
        }
    }

    /// <summary>What the digest says under a suggestion close to the line.</summary>
    public const string InterestsReason = "Close to your interests";

    /// <summary>What the digest says under a suggestion close to a liked paper; one string per liked paper.</summary>
    private string LikedReason(ProfileVote liked) =>
        _likedReasons.GetOrAdd(liked.PaperId, static (_, title) => $"Like «{Shorten(title)}», which you liked", liked.Title);

    // Cut as stored text is, never inside a character: half of one cannot be stored, and the fan-out failed.
    private static string Shorten(string title) => title.Length <= 90 ? title : StoredText.Shortened(title, 89);
}
