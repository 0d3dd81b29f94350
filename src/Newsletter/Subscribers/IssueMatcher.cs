using System.Collections.Concurrent;
using System.Collections.ObjectModel;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Newsletter.Subscribers;

/// <summary>
/// A paper of an issue as the matcher sees it; its position in the list is its position in the issue.
/// </summary>
public sealed record MatchablePaper(long PaperId, string Title, string Abstract);

/// <summary>A paper selected for a subscriber: <see cref="MatchedTerms"/> are the query's terms as typed.</summary>
public readonly record struct PaperMatch(long PaperId, int Position, double Score, IReadOnlyList<string> MatchedTerms)
{
    /// <summary>A keyword of the line is in the paper's title (not only in its abstract).</summary>
    public bool InTitle { get; init; }
}

/// <summary>A matched term's place in the original text, for the renderer to wrap after encoding each piece.</summary>
public readonly record struct HighlightSpan(int Start, int Length);

/// <summary>
/// Matches one issue against many interest queries. Built once per issue: every paper is tokenised once; each
/// distinct term is resolved once into a bitset of the papers it hits plus their scores, cached for all later
/// queries, so a query costs a few bit operations. Safe to use from many threads at once.
/// The cache is bounded (<see cref="MaxCachedTerms"/>, <see cref="MaxCachedBytes"/>), since anyone can ask the
/// preview about any term: a term no paper has is never kept, and once the cache is full further terms are resolved
/// on each use instead.
/// </summary>
public sealed class IssueMatcher
{
    /// <summary>Score of a term found in the title.</summary>
    public const double TitleWeight = 3;

    /// <summary>Score of a term found in the abstract.</summary>
    public const double AbstractWeight = 1;

    /// <summary>Added per further occurrence of a term, up to <see cref="MaxRepeatBonus"/>.</summary>
    public const double RepeatBonus = 0.1;

    public const double MaxRepeatBonus = 0.5;

    /// <summary>Most terms kept resolved; an issue's subscribers use far fewer distinct terms that hit a paper.</summary>
    public const int MaxCachedTerms = 50_000;

    /// <summary>Most memory the kept terms take, estimated (<see cref="CachedBytes"/>).</summary>
    public const long MaxCachedBytes = 16L * 1024 * 1024;

    private const int Title = 0;
    private const int Abstract = 1;
    private const int StackWords = 8;

    private readonly long[] _paperIds;
    private readonly int[][][] _fields;
    private readonly Dictionary<string, int> _vocabulary = new(StringComparer.Ordinal);
    private readonly List<Occurrence>[] _postings;
    private readonly ulong[] _all;
    private readonly ConcurrentDictionary<string, TermHits> _terms = new(StringComparer.Ordinal);
    private readonly ReadOnlyCollection<PaperMatch> _everyPaper;
    private readonly TermHits _noHits;
    private readonly long _bytesPerTerm;
    private long _cachedBytes;
    private int _cachedTerms;

    public IssueMatcher(IReadOnlyList<MatchablePaper> papers)
    {
        ArgumentNullException.ThrowIfNull(papers);
        var count = papers.Count;
        _paperIds = new long[count];
        _fields = new int[count][][];
        var postings = new List<List<Occurrence>>();
        var tokens = new List<WordToken>();
        for (var p = 0; p < count; p++)
        {
            var paper = papers[p];
            _paperIds[p] = paper.PaperId;
            _fields[p] = [Index(paper.Title, p, Title), Index(paper.Abstract, p, Abstract)];
        }

        _postings = postings.ToArray();
        _all = new ulong[(count + 63) / 64];
        for (var p = 0; p < count; p++)
        {
            _all[p >> 6] |= 1UL << (p & 63);
        }

        var everyPaper = new PaperMatch[count];
        for (var p = 0; p < count; p++)
        {
            everyPaper[p] = new PaperMatch(_paperIds[p], p, 0, []);
        }

        _everyPaper = new ReadOnlyCollection<PaperMatch>(everyPaper);
        _noHits = new TermHits(new ulong[_all.Length], new double[count]);
        // Both arrays with their headers, the TermHits, the dictionary's node and the key string's header.
        _bytesPerTerm = 8L * _all.Length + 8L * count + 2 * 24 + 32 + 48 + 24;

        int[] Index(string? text, int paper, int field)
        {
            tokens.Clear();
            WordTokenizer.Tokenize(text, tokens);
            var ids = new int[tokens.Count];
            for (var i = 0; i < ids.Length; i++)
            {
                if (!_vocabulary.TryGetValue(tokens[i].Folded, out var id))
                {
                    id = postings.Count;
                    _vocabulary.Add(tokens[i].Folded, id);
                    postings.Add([]);
                }

                ids[i] = id;
                postings[id].Add(new Occurrence(paper, field, i));
            }

            return ids;
        }
    }

    public int PaperCount => _paperIds.Length;

    /// <summary>Number of distinct terms kept resolved.</summary>
    public int CachedTermCount => _terms.Count;

    /// <summary>Estimated memory of the kept terms; stays under <see cref="MaxCachedBytes"/>.</summary>
    public long CachedBytes => Interlocked.Read(ref _cachedBytes);

    /// <summary>
    /// The papers matching <paramref name="query"/>, best first (score descending, then issue position).
    /// A term scores <see cref="TitleWeight"/> when in the title plus <see cref="AbstractWeight"/> when in the
    /// abstract, plus a small bonus for repeats. A blank query returns every paper with score 0.
    /// </summary>
    public IReadOnlyList<PaperMatch> Match(InterestQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Groups.Length == 0 && query.Exclusions.Length == 0)
        {
            return _everyPaper;
        }

        var words = _all.Length;
        var selected = words <= StackWords ? stackalloc ulong[words] : new ulong[words];
        var buffer = default(TermHitsBuffer);
        Span<TermHits> hits = buffer;
        var matched = Select(query, selected, hits, out var termCount);
        if (matched == 0)
        {
            return [];
        }

        var result = new PaperMatch[matched];
        var n = 0;
        for (var w = 0; w < words; w++)
        {
            for (var bits = selected[w]; bits != 0; bits &= bits - 1)
            {
                var p = (w << 6) + BitOperations.TrailingZeroCount(bits);
                double score = 0;
                ulong termMask = 0;
                var inTitle = false;
                for (var t = 0; t < termCount; t++)
                {
                    var termScore = hits[t].Scores[p];
                    if (termScore > 0)
                    {
                        score += termScore;
                        termMask |= 1UL << t;
                        inTitle |= termScore >= TitleWeight;
                    }
                }

                result[n++] = new PaperMatch(_paperIds[p], p, score, TermsOf(query, termMask)) { InTitle = inTitle };
            }
        }

        // Insertion sort: a handful of papers, already in issue order.
        for (var i = 1; i < result.Length; i++)
        {
            var item = result[i];
            var j = i - 1;
            while (j >= 0 && result[j].Score < item.Score)
            {
                result[j + 1] = result[j];
                j--;
            }

            result[j + 1] = item;
        }

        return result;
    }

    /// <summary>
    /// What a fan-out needs of <see cref="Match"/>: the matching papers' ids in order and their total score, one array
    /// per query, no matched terms.
    /// </summary>
    public long[] MatchPaperIds(InterestQuery query, out double totalScore)
    {
        ArgumentNullException.ThrowIfNull(query);
        var count = _paperIds.Length;
        var positions = count <= 128 ? stackalloc int[count] : new int[count];
        var scores = count <= 128 ? stackalloc double[count] : new double[count];
        var matched = MatchInto(query, positions, scores);
        totalScore = 0;
        for (var i = 0; i < matched; i++)
        {
            totalScore += scores[i];
        }

        var ids = matched == 0 ? [] : new long[matched];
        for (var i = 0; i < matched; i++)
        {
            ids[i] = _paperIds[positions[i]];
        }

        return ids;
    }

    /// <summary>The id of the paper at <paramref name="position"/> in the issue.</summary>
    public long PaperIdAt(int position) => _paperIds[position];

    /// <summary>
    /// <see cref="Match"/> without allocating: the matching papers' positions in the issue (<see cref="PaperIdAt"/>) and
    /// scores, best first, into spans of at least <see cref="PaperCount"/> items; returns how many match.
    /// </summary>
    public int MatchInto(InterestQuery query, Span<int> positions, Span<double> scores) => MatchInto(query, positions, scores, []);

    /// <summary>
    /// <see cref="MatchInto(InterestQuery, Span{int}, Span{double})"/>, and for each match whether a keyword is in its title
    /// into <paramref name="inTitle"/> (empty, or room for every paper): a term's score reaches <see cref="TitleWeight"/>
    /// only from the title, though a paper's total can from several terms in its abstract.
    /// </summary>
    public int MatchInto(InterestQuery query, Span<int> positions, Span<double> scores, Span<bool> inTitle)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (positions.Length < _paperIds.Length || scores.Length < _paperIds.Length || (!inTitle.IsEmpty && inTitle.Length < _paperIds.Length))
        {
            throw new ArgumentException($"The spans need room for every paper ({_paperIds.Length}).", nameof(positions));
        }

        if (query.Groups.Length == 0 && query.Exclusions.Length == 0)
        {
            for (var p = 0; p < _paperIds.Length; p++)
            {
                positions[p] = p;
            }

            scores[.._paperIds.Length].Clear();
            if (!inTitle.IsEmpty)
            {
                inTitle[.._paperIds.Length].Clear();
            }

            return _paperIds.Length;
        }

        var words = _all.Length;
        var selected = words <= StackWords ? stackalloc ulong[words] : new ulong[words];
        var buffer = default(TermHitsBuffer);
        Span<TermHits> hits = buffer;
        var matched = Select(query, selected, hits, out var termCount);
        var n = 0;
        for (var w = 0; w < words && matched > 0; w++)
        {
            for (var bits = selected[w]; bits != 0; bits &= bits - 1)
            {
                var p = (w << 6) + BitOperations.TrailingZeroCount(bits);
                double score = 0;
                for (var t = 0; t < termCount; t++)
                {
                    score += hits[t].Scores[p];
                }

                // As in Match: best first, ties in issue order.
                BestFirst.Insert(positions, scores, n, p, score);
                n++;
            }
        }

        if (!inTitle.IsEmpty)
        {
            for (var k = 0; k < n; k++)
            {
                var title = false;
                for (var t = 0; t < termCount; t++)
                {
                    title |= hits[t].Scores[positions[k]] >= TitleWeight;
                }

                inTitle[k] = title;
            }
        }

        return n;
    }

    /// <summary>The papers the line's -terms exclude, as ids into <paramref name="ids"/> (room for every paper); returns how many.</summary>
    public int ExcludedPaperIds(InterestQuery query, Span<long> ids)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (ids.Length < _paperIds.Length)
        {
            throw new ArgumentException($"The span needs room for every paper ({_paperIds.Length}).", nameof(ids));
        }

        var words = _all.Length;
        var excluded = words <= StackWords ? stackalloc ulong[words] : new ulong[words];
        excluded.Clear();
        foreach (var term in query.Exclusions)
        {
            var papers = Hits(term).Papers;
            for (var w = 0; w < words; w++)
            {
                excluded[w] |= papers[w];
            }
        }

        var n = 0;
        for (var w = 0; w < words; w++)
        {
            for (var bits = excluded[w]; bits != 0; bits &= bits - 1)
            {
                ids[n++] = _paperIds[(w << 6) + BitOperations.TrailingZeroCount(bits)];
            }
        }

        return n;
    }

    /// <summary>
    /// Leaves the papers that match <paramref name="query"/> set in <paramref name="selected"/> and the hits of its
    /// positive terms, in the order of PositiveTerms, in <paramref name="hits"/>; returns how many papers match.
    /// </summary>
    private int Select(InterestQuery query, Span<ulong> selected, Span<TermHits> hits, out int termCount)
    {
        var words = _all.Length;
        var anyGroup = words <= StackWords ? stackalloc ulong[words] : new ulong[words];
        _all.CopyTo(selected);

        // Each positive term is looked up once and kept for scoring.
        termCount = 0;
        foreach (var alternatives in query.Groups)
        {
            anyGroup.Clear();
            foreach (var term in alternatives)
            {
                var papers = (hits[termCount++] = Hits(term)).Papers;
                for (var w = 0; w < words; w++)
                {
                    anyGroup[w] |= papers[w];
                }
            }

            ulong left = 0;
            for (var w = 0; w < words; w++)
            {
                left |= selected[w] &= anyGroup[w];
            }

            if (left == 0)
            {
                return 0;
            }
        }

        foreach (var term in query.Exclusions)
        {
            var papers = Hits(term).Papers;
            for (var w = 0; w < words; w++)
            {
                selected[w] &= ~papers[w];
            }
        }

        var matched = 0;
        for (var w = 0; w < words; w++)
        {
            matched += BitOperations.PopCount(selected[w]);
        }

        return matched;
    }

    /// <summary>
    /// Where the positive terms of <paramref name="query"/> occur in <paramref name="text"/> (a title or an
    /// abstract), as spans of the original string, sorted and merged when they overlap.
    /// </summary>
    public static IReadOnlyList<HighlightSpan> Highlight(string? text, InterestQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (string.IsNullOrEmpty(text) || query.PositiveTerms.Length == 0)
        {
            return [];
        }

        return Highlight(WordTokenizer.Tokenize(text), query);
    }

    /// <summary>
    /// The same for text already tokenized: an issue's titles and abstracts are tokenized once per send batch, not once
    /// per digest.
    /// </summary>
    public static IReadOnlyList<HighlightSpan> Highlight(IReadOnlyList<WordToken> tokens, InterestQuery query)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(query);
        if (tokens.Count == 0 || query.PositiveTerms.Length == 0)
        {
            return [];
        }

        var spans = new List<(int Start, int End)>();
        foreach (var term in query.PositiveTerms)
        {
            var words = term.Words;
            for (var i = 0; i + words.Length <= tokens.Count; i++)
            {
                var k = 0;
                while (k < words.Length && string.Equals(tokens[i + k].Folded, words[k], StringComparison.Ordinal))
                {
                    k++;
                }

                if (k == words.Length)
                {
                    spans.Add((tokens[i].Start, tokens[i + k - 1].End));
                }
            }
        }

        spans.Sort();
        var merged = new List<HighlightSpan>(spans.Count);
        var current = (Start: -1, End: -1);
        foreach (var span in spans)
        {
            if (current.Start >= 0 && span.Start <= current.End)
            {
                current.End = Math.Max(current.End, span.End);
                continue;
            }

            if (current.Start >= 0)
            {
                merged.Add(new HighlightSpan(current.Start, current.End - current.Start));
            }

            current = span;
        }

        if (current.Start >= 0)
        {
            merged.Add(new HighlightSpan(current.Start, current.End - current.Start));
        }

        return merged;
    }

    private static IReadOnlyList<string> TermsOf(InterestQuery query, ulong mask)
    {
        if (mask == 0)
        {
            return [];
        }

        if (BitOperations.IsPow2(mask))
        {
            return query.PositiveTerms[BitOperations.TrailingZeroCount(mask)].AsList;
        }

        var terms = new string[BitOperations.PopCount(mask)];
        var n = 0;
        for (; mask != 0; mask &= mask - 1)
        {
            terms[n++] = query.PositiveTerms[BitOperations.TrailingZeroCount(mask)].Original;
        }

        return terms;
    }

    private TermHits Hits(InterestTerm term)
    {
        if (_terms.TryGetValue(term.Key, out var cached))
        {
            return cached;
        }
        var hits = Resolve(term.Words);
        if (ReferenceEquals(hits, _noHits))
        {
            return hits;
        }
        // Counted before adding, so threads racing for the last places cannot overshoot; undone when it is not kept.
        var bytes = _bytesPerTerm + 2L * term.Key.Length;
        if ((Interlocked.Increment(ref _cachedTerms) > MaxCachedTerms) | (Interlocked.Add(ref _cachedBytes, bytes) > MaxCachedBytes)
            || !_terms.TryAdd(term.Key, hits))
        {
            Interlocked.Decrement(ref _cachedTerms);
            Interlocked.Add(ref _cachedBytes, -bytes);
        }
        return hits;
    }

    private TermHits Resolve(string[] words)
    {
        var ids = new int[words.Length];
        for (var i = 0; i < words.Length; i++)
        {
            if (!_vocabulary.TryGetValue(words[i], out ids[i]))
            {
                return _noHits;
            }
        }

        var titleHits = new int[_paperIds.Length];
        var abstractHits = new int[_paperIds.Length];
        foreach (var occurrence in _postings[ids[0]])
        {
            var field = _fields[occurrence.Paper][occurrence.Field];
            if (occurrence.Index + ids.Length > field.Length)
            {
                continue;
            }

            var k = 1;
            while (k < ids.Length && field[occurrence.Index + k] == ids[k])
            {
                k++;
            }

            if (k == ids.Length)
            {
                (occurrence.Field == Title ? titleHits : abstractHits)[occurrence.Paper]++;
            }
        }

        if (Array.TrueForAll(titleHits, n => n == 0) && Array.TrueForAll(abstractHits, n => n == 0))
        {
            return _noHits; // a phrase of known words that no paper has
        }

        var papers = new ulong[_all.Length];
        var scores = new double[_paperIds.Length];
        for (var p = 0; p < _paperIds.Length; p++)
        {
            var occurrences = titleHits[p] + abstractHits[p];
            if (occurrences == 0)
            {
                continue;
            }

            papers[p >> 6] |= 1UL << (p & 63);
            scores[p] = (titleHits[p] > 0 ? TitleWeight : 0) + (abstractHits[p] > 0 ? AbstractWeight : 0)
                + Math.Min((occurrences - 1) * RepeatBonus, MaxRepeatBonus);
        }

        return new TermHits(papers, scores);
    }

    private readonly record struct Occurrence(int Paper, int Field, int Index);
}

/// <summary>
/// The papers one term hits in an issue: a bitset, and the term's score in each paper (0 when absent).
/// </summary>
internal sealed record TermHits(ulong[] Papers, double[] Scores);

/// <summary>Room on the stack for the hits of every positive term of a query.</summary>
[InlineArray(InterestQuery.MaxTerms)]
internal struct TermHitsBuffer
{
    private TermHits _element;
}
