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
/// A paper of the digest. <see cref="Score"/> is the profile's: issue standard deviations above the issue's typical
/// paper. <see cref="Match"/> is set for keyword matches (matched terms, keyword score); <see cref="LikedPaper"/> is
/// the liked paper a <see cref="RankReason.LikedPaper"/> suggestion resembles most.
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
    /// issue's typical paper in closeness to the keyword line or to a liked paper.</summary>
    public double SuggestionThreshold { get; init; } = 2.0;

    /// <summary>Added to the rank of a keyword match with a keyword in its title (half a standard deviation).</summary>
    public double TitleBonus { get; init; } = 0.5;

    public static RelevanceSettings Default { get; } = new();
}

/// <summary>
/// Decides a reader's digest from their profile. For each paper of the issue: <c>like</c> = how close it is to the
/// keyword line or to the nearest liked paper, whichever is closer; <c>unlike</c> = how close to the nearest
/// disliked paper (both in issue standard deviations, from <see cref="IssueSimilarities"/>). Keyword matches are
/// ranked by <c>like − max(0, unlike)</c> (+ <see cref="RelevanceSettings.TitleBonus"/> for a title hit); a match
/// closer to something disliked than to anything liked (<c>unlike &gt; like</c>) is hidden. Papers outside the
/// keywords with <c>like ≥</c> <see cref="RelevanceSettings.SuggestionThreshold"/> and <c>like &gt; unlike</c> are
/// suggested, best first (never a paper the reader already voted on). Before any vote nothing is hidden.
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
        ArgumentNullException.ThrowIfNull(issue);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(matches);
        ArgumentOutOfRangeException.ThrowIfNegative(maxSuggestions);
        settings ??= RelevanceSettings.Default;

        var n = issue.PaperCount;
        var interests = issue.InterestRow(profile);
        var (liked, nearestLiked) = Nearest(issue, profile.Liked, n);
        var (disliked, _) = Nearest(issue, profile.Disliked, n);
        var like = new double[n];
        var unlike = new double[n];
        for (var i = 0; i < n; i++)
        {
            like[i] = (interests, liked) switch
            {
                (null, null) => 0,
                (null, _) => liked[i],
                (_, null) => interests[i],
                _ => Math.Max(interests[i], liked[i]),
            };
            unlike[i] = disliked is null ? double.NegativeInfinity : disliked[i];
            if (liked is not null && interests is not null && interests[i] >= liked[i])
            {
                nearestLiked[i] = null;
            }
        }

        double Score(int i) => like[i] - Math.Max(0, unlike[i]);

        var shown = new List<(RankedPaper Paper, double Rank, int Order)>(matches.Count);
        var hidden = new List<RankedPaper>();
        var matched = new HashSet<long>();
        for (var m = 0; m < matches.Count; m++)
        {
            var match = matches[m];
            matched.Add(match.PaperId);
            var i = issue.PositionOf(match.PaperId);
            if (i < 0)
            {
                // A paper without a vector yet is ranked as keywords alone would rank it.
                shown.Add((new RankedPaper(match.PaperId, 0, RankReason.Keywords, match, null), double.NegativeInfinity, m));
                continue;
            }

            var paper = new RankedPaper(match.PaperId, Score(i), RankReason.Keywords, match, null);
            if (profile.HasVotes && unlike[i] > like[i])
            {
                hidden.Add(paper);
                continue;
            }

            var titleHit = match.Score >= IssueMatcher.TitleWeight;
            shown.Add((paper, paper.Score + (titleHit ? settings.TitleBonus : 0), m));
        }

        var suggestions = new List<RankedPaper>();
        if (maxSuggestions > 0)
        {
            var voted = profile.Votes.Select(v => v.PaperId).ToHashSet();
            for (var i = 0; i < n; i++)
            {
                var id = issue.PaperIds[i];
                if (matched.Contains(id) || voted.Contains(id) || (suggestible is not null && !suggestible.Contains(id))
                    || like[i] < settings.SuggestionThreshold || like[i] <= unlike[i])
                {
                    continue;
                }

                var reason = nearestLiked[i] is null ? RankReason.Interests : RankReason.LikedPaper;
                suggestions.Add(new RankedPaper(id, Score(i), reason, null, nearestLiked[i]));
            }

            suggestions.Sort((a, b) => b.Score.CompareTo(a.Score));
            if (suggestions.Count > maxSuggestions)
            {
                suggestions.RemoveRange(maxSuggestions, suggestions.Count - maxSuggestions);
            }
        }

        var ranked = shown.OrderByDescending(s => s.Rank).ThenBy(s => s.Order).Select(s => s.Paper).ToArray();
        return new RankedDigest(ranked, hidden, suggestions);
    }

    /// <summary>
    /// For each paper of the issue, its cosine with the nearest of <paramref name="votes"/>, standardised within the
    /// issue (so the nearest-vote closeness speaks the same scale as the line's), and which vote that was.
    /// </summary>
    private static (double[]? Z, ProfileVote?[] Nearest) Nearest(IssueSimilarities issue, IReadOnlyList<ProfileVote> votes, int n)
    {
        var nearest = new ProfileVote?[n];
        if (votes.Count == 0)
        {
            return (null, nearest);
        }

        var best = new double[n];
        Array.Fill(best, double.NegativeInfinity);
        foreach (var vote in votes)
        {
            var row = issue.VoteRow(vote);
            for (var i = 0; i < n; i++)
            {
                if (row[i] > best[i])
                {
                    best[i] = row[i];
                    nearest[i] = vote;
                }
            }
        }

        return (IssueSimilarities.Standardize(best), nearest);
    }
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
}
