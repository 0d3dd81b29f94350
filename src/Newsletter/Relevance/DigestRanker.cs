using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Newsletter.Subscribers;

namespace Newsletter.Relevance;

/// <summary>Why a paper is in a reader's digest.</summary>
public enum RankReason
{
    /// <summary>It matches the keyword line ("matched: diffusion").</summary>
    Keywords,

    /// <summary>A suggestion close to the keyword line read for meaning ("close to your interests").</summary>
    Interests,

    /// <summary>A suggestion close to a paper the reader liked ("like «Paper X» you liked").</summary>
    LikedPaper,
}

/// <summary>
/// A paper of the digest. <see cref="Score"/> is the profile's: standard deviations above the typical paper (of the
/// issue and the listing before it, see <see cref="IssueSimilarities"/>). <see cref="Match"/> is set for keyword
/// matches (matched terms, keyword score); <see cref="LikedPaper"/> is the liked paper a
/// <see cref="RankReason.LikedPaper"/> suggestion resembles most.
/// </summary>
public sealed record RankedPaper(long PaperId, double Score, RankReason Reason, PaperMatch? Match, ProfileVote? LikedPaper);

/// <summary>
/// A reader's digest as relevance decides it: <see cref="Matches"/> (keyword matches, best first),
/// <see cref="Hidden"/> (keyword matches the votes say are unwanted: the web copy only, behind one line) and
/// <see cref="Suggestions"/> ("Also for you", best first). The mail shows Matches then Suggestions.
/// </summary>
public sealed record RankedDigest(IReadOnlyList<RankedPaper> Matches, IReadOnlyList<RankedPaper> Hidden, IReadOnlyList<RankedPaper> Suggestions)
{
    /// <summary>The papers of the mail in their order.</summary>
    public IEnumerable<RankedPaper> Shown => Matches.Concat(Suggestions);
}

/// <summary>The two settings of the decision; the defaults are what the judgement set was measured with.</summary>
public sealed record RelevanceSettings
{
    /// <summary>A paper outside the keywords is suggested when it stands this many standard deviations above the
    /// typical paper in closeness to the keyword line or to a liked paper.</summary>
    public double SuggestionThreshold { get; init; } = 2.0;

    /// <summary>Added to the rank of a keyword match with a keyword in its title (half a standard deviation).</summary>
    public double TitleBonus { get; init; } = 0.5;

    /// <summary>A keyword match is hidden (after votes) when its closeness to something disliked exceeds its closeness
    /// to anything liked by more than this many standard deviations.</summary>
    public double HideMargin { get; init; }

    /// <summary>Suggest by the net score (<c>like − max(0, unlike)</c>) instead of <c>like</c> alone.</summary>
    public bool SuggestOnNetScore { get; init; }

    /// <summary>Hide a match with a keyword in its title too (before 2026-12-07; kept to measure the rule against).</summary>
    public bool HideTitleMatches { get; init; }

    public static RelevanceSettings Default { get; } = new();
}

/// <summary>
/// Decides a reader's digest from their profile. For each paper of the issue: <c>like</c> = how close it is to the
/// keyword line or to the nearest liked paper, whichever is closer; <c>unlike</c> = how close to the nearest
/// disliked paper (both in standard deviations above the typical paper, from <see cref="IssueSimilarities"/>). Keyword
/// matches are ranked by <c>like − max(0, unlike)</c> (+ <see cref="RelevanceSettings.TitleBonus"/> for a title hit);
/// a match closer to something disliked than to anything liked (<c>unlike &gt; like</c>) is hidden, unless a keyword is
/// in its title (a title that names the reader's keyword is the paper's subject: such a match only moves down) and the
/// reader did not vote that very paper down. Papers outside the keywords with <c>like ≥</c>
/// <see cref="RelevanceSettings.SuggestionThreshold"/> and <c>like &gt; unlike</c> are suggested, best first (never a
/// paper the reader already voted on). Before any vote nothing is hidden.
/// </summary>
public static class DigestRanker
{
    /// <param name="issue">The issue's papers and their similarities.</param>
    /// <param name="profile">The reader's keyword line (as a vector) and votes.</param>
    /// <param name="matches">The reader's keyword matches from <see cref="IssueMatcher.Match"/>.</param>
    /// <param name="suggestible">Papers that may be suggested (not excluded by the line's -terms; see
    /// <see cref="SuggestionFilter"/>); null means every paper.</param>
    /// <param name="maxSuggestions">The reader's choice: 0, 3, 5 or 10.</param>
    public static RankedDigest Rank(
        IssueSimilarities issue,
        ReaderProfile profile,
        IReadOnlyList<PaperMatch> matches,
        IReadOnlySet<long>? suggestible,
        int maxSuggestions,
        RelevanceSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(matches);
        ArgumentNullException.ThrowIfNull(issue);
        ArgumentNullException.ThrowIfNull(profile);
        var positions = new int[matches.Count];
        var scores = new double[matches.Count];
        var inTitle = new bool[matches.Count];
        for (var m = 0; m < matches.Count; m++)
        {
            positions[m] = issue.PositionOf(matches[m].PaperId);
            scores[m] = matches[m].Score;
            inTitle[m] = matches[m].InTitle;
        }

        bool[] unsuggestible = [];
        if (suggestible is not null)
        {
            unsuggestible = new bool[issue.PaperCount];
            for (var i = 0; i < unsuggestible.Length; i++)
            {
                unsuggestible[i] = !suggestible.Contains(issue.PaperIds[i]);
            }
        }

        var ranking = new DigestRanking();
        Rank(issue, issue.InterestRow(profile), profile.Split, positions, scores, inTitle, unsuggestible, maxSuggestions, ranking, settings);
        var shown = new RankedPaper[ranking.ShownMatches.Length];
        for (var k = 0; k < shown.Length; k++)
        {
            var m = ranking.ShownMatches[k];
            shown[k] = new RankedPaper(matches[m].PaperId, ranking.MatchScore(m), RankReason.Keywords, matches[m], null);
        }

        var hidden = new RankedPaper[ranking.HiddenMatches.Length];
        for (var k = 0; k < hidden.Length; k++)
        {
            var m = ranking.HiddenMatches[k];
            hidden[k] = new RankedPaper(matches[m].PaperId, ranking.MatchScore(m), RankReason.Keywords, matches[m], null);
        }

        var suggestions = new RankedPaper[ranking.Suggestions.Length];
        for (var k = 0; k < suggestions.Length; k++)
        {
            var liked = ranking.SuggestionLikedPaper(k);
            suggestions[k] = new RankedPaper(issue.PaperIds[ranking.Suggestions[k]], ranking.SuggestionScore(k),
                liked is null ? RankReason.Interests : RankReason.LikedPaper, null, liked);
        }

        return new RankedDigest(shown, hidden, suggestions);
    }

    /// <summary>
    /// The same decision into a reusable <paramref name="into"/>, allocating nothing: what a fan-out calls for each
    /// reader. <paramref name="interests"/> is the line's row (<see cref="IssueSimilarities.InterestRow(string, Embedding)"/>;
    /// empty when the line has no vector). <paramref name="matchPositions"/> (where each paper is in
    /// <paramref name="issue"/>, -1 for a paper without a vector), <paramref name="matchScores"/> and
    /// <paramref name="matchInTitle"/> (a keyword in the title: <see cref="PaperMatch.InTitle"/>) are the keyword
    /// matches in the matcher's order; the ranking refers to them by index. <paramref name="unsuggestible"/>
    /// marks, by issue position, the papers the line's -terms exclude (<see cref="SuggestionFilter.Unsuggestible"/>;
    /// empty when none).
    /// </summary>
    public static void Rank(
        IssueSimilarities issue,
        ReadOnlySpan<float> interests,
        ProfileVotes votes,
        ReadOnlySpan<int> matchPositions,
        ReadOnlySpan<double> matchScores,
        ReadOnlySpan<bool> matchInTitle,
        ReadOnlySpan<bool> unsuggestible,
        int maxSuggestions,
        DigestRanking into,
        RelevanceSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(issue);
        ArgumentNullException.ThrowIfNull(votes);
        ArgumentNullException.ThrowIfNull(into);
        ArgumentOutOfRangeException.ThrowIfNegative(maxSuggestions);
        if (matchScores.Length != matchPositions.Length || matchInTitle.Length != matchPositions.Length)
        {
            throw new ArgumentException("One score and one title flag per matched paper.", nameof(matchScores));
        }

        settings ??= RelevanceSettings.Default;
        var n = issue.PaperCount;
        // The nearest votes are standardised over the issue's papers and the reference papers; only the issue's are ranked.
        var width = issue.RowWidth;
        into.Reset(width, matchPositions.Length);
        var excluded = into.ExcludedSpan(n);
        var votedDown = into.VotedDownSpan(n);
        var like = into.LikeSpan(n);
        var unlikeWide = into.UnlikeSpan(width);
        var likedWide = into.LikedSpan(width);
        var hasLiked = Nearest(issue, votes.Liked, likedWide, excluded);
        var likedZ = likedWide[..n];
        var unlike = unlikeWide[..n];
        var hasInterests = !interests.IsEmpty;
        if (hasInterests && hasLiked)
        {
            TensorPrimitives.Max(interests, likedZ, like);
        }
        else if (hasInterests)
        {
            interests.CopyTo(like);
        }
        else if (hasLiked)
        {
            likedZ.CopyTo(like);
        }
        else
        {
            like.Clear();
        }

        if (!Nearest(issue, votes.Disliked, unlikeWide, votedDown))
        {
            unlike.Fill(float.NegativeInfinity);
        }

        var hideMargin = (float)settings.HideMargin;
        for (var m = 0; m < matchPositions.Length; m++)
        {
            var i = matchPositions[m];
            if (i < 0)
            {
                // A paper without a vector yet is ranked as keywords alone would rank it.
                into.AddShown(m, 0, float.NegativeInfinity);
                continue;
            }

            excluded[i] = true;
            var score = like[i] - MathF.Max(0, unlike[i]);
            var titleHit = matchInTitle[m];
            if (votes.Any && unlike[i] > like[i] + hideMargin && (!titleHit || votedDown[i] || settings.HideTitleMatches))
            {
                into.AddHidden(m, score);
                continue;
            }

            into.AddShown(m, score, score + (titleHit ? (float)settings.TitleBonus : 0));
        }

        if (maxSuggestions == 0)
        {
            return;
        }

        var threshold = (float)settings.SuggestionThreshold;
        var thresholds = Vector256.Create(threshold);
        for (var start = 0; start < n; start += Vector256<float>.Count)
        {
            // Most papers stand below the threshold: one comparison per eight papers finds the few that do not.
            var candidates = n - start >= Vector256<float>.Count
                ? ~Vector256.LessThan(Vector256.Create<float>(like[start..]), thresholds).ExtractMostSignificantBits() & 0xFF
                : (1u << (n - start)) - 1;
            for (; candidates != 0; candidates &= candidates - 1)
            {
                var i = start + BitOperations.TrailingZeroCount(candidates);
                if (excluded[i] || votedDown[i] || like[i] < threshold || like[i] <= unlike[i] || (!unsuggestible.IsEmpty && unsuggestible[i]))
                {
                    continue;
                }

                var net = like[i] - MathF.Max(0, unlike[i]);
                if (settings.SuggestOnNetScore && net < threshold)
                {
                    continue;
                }

                into.AddSuggestion(i, net, maxSuggestions);
            }
        }

        if (!hasLiked || into.Suggestions.IsEmpty)
        {
            return;
        }

        // The reason: the line, or the liked paper that brought the suggestion closest (the first of equals); each
        // liked paper's row is read once for every suggestion.
        var suggestions = into.Suggestions;
        var closest = into.ClosestLikedSpan(suggestions.Length);
        for (var k = 0; k < suggestions.Length; k++)
        {
            var i = suggestions[k];
            closest[k] = hasInterests && interests[i] >= likedZ[i] ? float.PositiveInfinity : float.NegativeInfinity;
        }

        foreach (var vote in votes.Liked)
        {
            var cosines = issue.VoteCosines(vote, out _);
            for (var k = 0; k < suggestions.Length; k++)
            {
                if (cosines[suggestions[k]] > closest[k])
                {
                    closest[k] = cosines[suggestions[k]];
                    into.SetSuggestionLikedPaper(k, vote);
                }
            }
        }
    }

    /// <summary>
    /// For each paper of the issue and each reference paper (<paramref name="z"/> is <see cref="IssueSimilarities.RowWidth"/>
    /// long), its cosine with the nearest of <paramref name="votes"/>, standardised over them all (so the nearest-vote
    /// closeness speaks the same scale as the line's), into <paramref name="z"/>; marks the voted papers in
    /// <paramref name="voted"/>. False when there are no votes.
    /// </summary>
    private static bool Nearest(IssueSimilarities issue, ProfileVote[] votes, Span<float> z, Span<bool> voted)
    {
        if (votes.Length == 0)
        {
            return false;
        }

        var n = z.Length;
        issue.VoteCosines(votes[0], out var position)[..n].CopyTo(z);
        if (position >= 0)
        {
            voted[position] = true;
        }

        ref var best = ref MemoryMarshal.GetReference(z);
        for (var v = 1; v < votes.Length; v++)
        {
            var row = issue.VoteCosines(votes[v], out position);
            if (position >= 0)
            {
                voted[position] = true;
            }

            // The element-wise maximum, inlined: a call per vote costs more than the few vectors of an issue's row.
            ref var cosines = ref MemoryMarshal.GetReference(row);
            var i = 0;
            for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
            {
                Vector256.MaxNative(Vector256.LoadUnsafe(ref best, (nuint)i), Vector256.LoadUnsafe(ref cosines, (nuint)i)).StoreUnsafe(ref best, (nuint)i);
            }

            if (i < n && n >= Vector256<float>.Count)
            {
                // The last vector overlaps the one before: the maximum of a value with itself changes nothing.
                i = n - Vector256<float>.Count;
                Vector256.MaxNative(Vector256.LoadUnsafe(ref best, (nuint)i), Vector256.LoadUnsafe(ref cosines, (nuint)i)).StoreUnsafe(ref best, (nuint)i);
                i = n;
            }

            for (; i < n; i++)
            {
                Unsafe.Add(ref best, i) = MathF.Max(Unsafe.Add(ref best, i), Unsafe.Add(ref cosines, i));
            }
        }

        IssueSimilarities.Standardize(z);
        return true;
    }
}

/// <summary>
/// One reader's digest as <see cref="DigestRanker"/> decides it, by index: shown and hidden keyword matches (indices
/// into the matches ranked), suggestions (positions in the issue). Reused from reader to reader by one thread, so
/// ranking a fan-out's readers allocates nothing per reader.
/// </summary>
public sealed class DigestRanking
{
    private float[] _like = [];
    private float[] _unlike = [];
    private float[] _liked = [];
    private bool[] _excluded = [];
    private bool[] _votedDown = [];
    private float[] _matchScores = [];
    private int[] _shown = [];
    private float[] _shownRanks = [];
    private int[] _hidden = [];
    private int[] _suggestions = [];
    private float[] _suggestionScores = [];
    private float[] _closestLiked = [];
    private ProfileVote?[] _suggestionLiked = [];
    private int _shownCount;
    private int _hiddenCount;
    private int _suggestionCount;

    /// <summary>Indices of the keyword matches in the mail, best first.</summary>
    public ReadOnlySpan<int> ShownMatches => _shown.AsSpan(0, _shownCount);

    /// <summary>Indices of the keyword matches the votes say are unwanted (the web copy only), in the matcher's order.</summary>
    public ReadOnlySpan<int> HiddenMatches => _hidden.AsSpan(0, _hiddenCount);

    /// <summary>Issue positions of the "Also for you" papers, best first.</summary>
    public ReadOnlySpan<int> Suggestions => _suggestions.AsSpan(0, _suggestionCount);

    /// <summary>The profile's score of a keyword match (by index): standard deviations above the typical paper.</summary>
    public float MatchScore(int match) => _matchScores[match];

    public float SuggestionScore(int suggestion) => _suggestionScores[suggestion];

    /// <summary>The liked paper a suggestion resembles most; null when the line brought it closer.</summary>
    public ProfileVote? SuggestionLikedPaper(int suggestion) => _suggestionLiked[suggestion];

    internal void Reset(int papers, int matches)
    {
        if (_like.Length < papers)
        {
            _like = new float[papers];
            _unlike = new float[papers];
            _liked = new float[papers];
            _excluded = new bool[papers];
            _votedDown = new bool[papers];
            _suggestions = new int[papers];
            _suggestionScores = new float[papers];
            _closestLiked = new float[papers];
            _suggestionLiked = new ProfileVote?[papers];
        }

        if (_matchScores.Length < matches)
        {
            _matchScores = new float[matches];
            _shown = new int[matches];
            _shownRanks = new float[matches];
            _hidden = new int[matches];
        }

        _excluded.AsSpan(0, papers).Clear();
        _votedDown.AsSpan(0, papers).Clear();
        _suggestionLiked.AsSpan(0, _suggestionCount).Clear();
        _shownCount = _hiddenCount = _suggestionCount = 0;
    }

    internal Span<float> LikeSpan(int papers) => _like.AsSpan(0, papers);

    internal Span<float> UnlikeSpan(int papers) => _unlike.AsSpan(0, papers);

    internal Span<float> LikedSpan(int papers) => _liked.AsSpan(0, papers);

    internal Span<bool> ExcludedSpan(int papers) => _excluded.AsSpan(0, papers);

    /// <summary>The issue's papers the reader voted "Less like this" on themselves.</summary>
    internal Span<bool> VotedDownSpan(int papers) => _votedDown.AsSpan(0, papers);

    /// <summary>Per suggestion, the cosine of the liked paper closest to it so far (+∞: the line is closer).</summary>
    internal Span<float> ClosestLikedSpan(int suggestions) => _closestLiked.AsSpan(0, suggestions);

    /// <summary>Inserts a shown match by rank, best first; equal ranks keep the matcher's order.</summary>
    internal void AddShown(int match, float score, float rank)
    {
        _matchScores[match] = score;
        BestFirst.Insert(_shown.AsSpan(), _shownRanks.AsSpan(), _shownCount, match, rank);
        _shownCount++;
    }

    internal void AddHidden(int match, float score)
    {
        _matchScores[match] = score;
        _hidden[_hiddenCount++] = match;
    }

    /// <summary>Keeps the best <paramref name="limit"/> suggestions, best first; equal scores keep issue order.</summary>
    internal void AddSuggestion(int position, float score, int limit)
    {
        if (_suggestionCount == limit && _suggestionScores[_suggestionCount - 1] >= score)
        {
            return;
        }

        // A full list drops its last entry to make room.
        BestFirst.Insert(_suggestions.AsSpan(), _suggestionScores.AsSpan(), Math.Min(_suggestionCount, limit - 1), position, score);
        _suggestionCount = Math.Min(_suggestionCount + 1, limit);
    }

    internal void SetSuggestionLikedPaper(int suggestion, ProfileVote? liked) => _suggestionLiked[suggestion] = liked;
}

/// <summary>Which papers of an issue a reader's line allows as suggestions: all but those its -terms exclude.</summary>
public static class SuggestionFilter
{
    /// <summary>Null when the line excludes nothing (every paper may be suggested).</summary>
    public static IReadOnlySet<long>? Suggestible(IssueMatcher matcher, InterestQuery query)
    {
        ArgumentNullException.ThrowIfNull(matcher);
        ArgumentNullException.ThrowIfNull(query);
        if (query.Exclusions.Length == 0)
        {
            return null;
        }

        var exclusionsOnly = InterestQuery.Parse(string.Join(' ', query.Exclusions.Select(e => e.Canonical)));
        return matcher.Match(exclusionsOnly).Select(m => m.PaperId).ToHashSet();
    }

    /// <summary>The papers the line's -terms exclude, by position in <paramref name="issue"/>; empty when none is.</summary>
    public static bool[] Unsuggestible(IssueMatcher matcher, IssueSimilarities issue, InterestQuery query)
    {
        ArgumentNullException.ThrowIfNull(matcher);
        ArgumentNullException.ThrowIfNull(issue);
        ArgumentNullException.ThrowIfNull(query);
        if (query.Exclusions.Length == 0)
        {
            return [];
        }

        var ids = matcher.PaperCount <= 128 ? stackalloc long[matcher.PaperCount] : new long[matcher.PaperCount];
        var count = matcher.ExcludedPaperIds(query, ids);
        var excluded = new bool[issue.PaperCount];
        foreach (var id in ids[..count])
        {
            if (issue.PositionOf(id) is var i and >= 0)
            {
                excluded[i] = true;
            }
        }

        return excluded;
    }
}
