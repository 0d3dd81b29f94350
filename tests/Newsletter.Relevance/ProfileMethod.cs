using Newsletter.Subscribers;

namespace Newsletter.Relevance.Evaluation;

/// <summary>
/// The service's method, through the service's own classes: <see cref="IssueSimilarities"/> per day,
/// <see cref="ReaderProfile"/> from the line's vector and the votes, <see cref="DigestRanker"/> for the digest.
/// Knobs: model (minilm | arctic | tfidf | any of <see cref="ModelChoice.Named"/>, or blend=share with tfidf), sz
/// (suggestion threshold), title (title bonus), limit (suggestions), jitter=cosine with seed=n (every vector moved at
/// random to that cosine from itself: <see cref="JitteredVectors"/>), ref=day (standardise within the day alone, as
/// before 2026-12-06, instead of with the listing before), refdays=n (exploration: with the n listings before instead
/// of one), hidetitle=1 (votes may hide a match with a keyword in its title,
/// as before 2026-12-07), terms=max|maxz|maxzj (exploration, not the service's: a line
/// of several terms read as one vector per term instead of one for the line; its closeness to a paper is the largest
/// of the terms' z-scores; maxz: that largest standardised again among the papers; maxzj: maxz or the line's own
/// z-score, whichever is larger), prf=k with pw=w (exploration: the line's vector moved w times the centroid of its k
/// nearest papers among the issue's and the listing before's, pseudo-relevance feedback), kwlike=1 with kwdays=n
/// (exploration: earlier listings' papers with a keyword in their title, the last n days, count as liked), tw=w
/// (exploration: a paper's vector is its whole text's plus w times its title's, <see cref="TitleWeightedVectors"/>),
/// rp=b with rq=c (exploration: Rocchio on the line alone, moved b times towards the liked papers' centroid and c times
/// away from the disliked papers'), sent=1|2|3 (exploration, needs <paramref name="passages"/>: the line's closeness to a
/// paper read from its nearest passage, <see cref="PassageVectors"/>; 1: that alone, 2: the larger of its z-score and the
/// whole paper's, 3: their mean).
/// </summary>
public sealed class ProfileMethod(Knobs knobs, IPaperVectors vectors, IReadOnlyList<SetPaper> allPapers, PassageVectors? passages = null) : IRelevanceMethod
{
    private readonly RelevanceSettings _settings = new()
    {
        SuggestionThreshold = knobs.Number("sz", RelevanceSettings.Default.SuggestionThreshold),
        TitleBonus = knobs.Number("title", RelevanceSettings.Default.TitleBonus),
        HideMargin = knobs.Number("hide", RelevanceSettings.Default.HideMargin),
        SuggestOnNetScore = knobs.Number("net", RelevanceSettings.Default.SuggestOnNetScore ? 1 : 0) > 0,
        HideTitleMatches = knobs.Number("hidetitle", 0) > 0,
    };

    private readonly int _limit = (int)knobs.Number("limit", 5);
    private readonly string _terms = knobs.Text("terms", "line");
    private int _day = -1;
    private IssueSimilarities? _issue;
    /// <summary>The issue's papers' vectors, then the listing before's: what closeness is standardised among.</summary>
    private Embedding[] _standardisedAmong = [];
    private SetPaper[] _standardisedPapers = [];

    public string Name => knobs.Spec;

    public DigestOutcome Decide(DayContext context)
    {
        if (_day != context.Day || _issue is null)
        {
            // One per issue, shared by every reader, as in a fan-out; standardised with the listing before it, as the
            // service's fan-out does (RelevanceStore.LoadForFanOutAsync), unless ref=day.
            var inIssue = context.Listing.Select(p => p.Id).ToHashSet();
            var refDays = (int)knobs.Number("refdays", 1);
            var before = knobs.Text("ref", "before") == "day" ? []
                : allPapers.Where(p => p.Day < context.Day && p.Day >= context.Day - refDays && !inIssue.Contains(p.Id)).Select(vectors.Paper).ToArray();
            _issue = new IssueSimilarities(context.Listing.Select(p => ((long)p.Id, vectors.Paper(p))).ToArray(), before);
            _standardisedAmong = [.. context.Listing.Select(vectors.Paper), .. before];
            _standardisedPapers = knobs.Text("ref", "before") == "day" ? [.. context.Listing]
                : [.. context.Listing, .. allPapers.Where(p => p.Day < context.Day && p.Day >= context.Day - refDays && !inIssue.Contains(p.Id))];
            _day = context.Day;
        }

        var votes = context.Votes
            .Select(v => new ProfileVote(v.PaperId, allPapers[v.PaperId].Title, vectors.Paper(allPapers[v.PaperId]), v.More))
            .ToArray();
        if (knobs.Number("kwlike", 0) > 0)
        {
            // Exploration: earlier papers with a keyword in their title count as liked (the reader's own filter).
            var voted = votes.Select(v => v.PaperId).ToHashSet();
            var earlier = allPapers.Where(p => p.Day < context.Day && p.Day >= context.Day - (int)knobs.Number("kwdays", 99)).ToArray();
            var earlierMatcher = new IssueMatcher(earlier.Select(p => new MatchablePaper(p.Id, p.Title, p.Abstract)).ToArray());
            var extra = earlierMatcher.Match(context.Query).Where(m => m.InTitle && !voted.Contains(m.PaperId))
                .Select(m => allPapers[(int)m.PaperId])
                .Select(p => new ProfileVote(p.Id, p.Title, vectors.Paper(p), true));
            votes = [.. votes, .. extra];
        }
        var line = vectors.Interests(context.Query);
        var prf = (int)knobs.Number("prf", 0);
        if (line is not null && prf > 0)
        {
            // Pseudo-relevance feedback: the line moved towards the centroid of its k nearest papers (issue + reference).
            var nearest = _standardisedAmong.OrderByDescending(p => p.Similarity(line)).Take(prf).ToArray();
            var weight = (float)knobs.Number("pw", 1);
            var sum = line.Values.ToArray();
            foreach (var n in nearest)
            {
                for (var d = 0; d < sum.Length; d++)
                {
                    sum[d] += weight * n.Values[d] / nearest.Length;
                }
            }

            line = Embedding.Normalize(sum);
        }

        var rocchioMinus = knobs.Number("rq", 0);
        var rocchioPlus = knobs.Number("rp", 0);
        if (line is not null && (rocchioMinus > 0 || rocchioPlus > 0) && votes.Length > 0)
        {
            // Exploration: Rocchio on the line alone, towards the liked papers' centroid and away from the disliked ones'.
            var sum = line.Values.ToArray();
            foreach (var (group, weight) in new[] { (votes.Where(v => v.More).ToArray(), rocchioPlus), (votes.Where(v => !v.More).ToArray(), -rocchioMinus) })
            {
                foreach (var v in group)
                {
                    for (var d = 0; d < sum.Length; d++)
                    {
                        sum[d] += (float)weight * v.Paper.Values[d] / group.Length;
                    }
                }
            }
            line = Embedding.Normalize(sum);
        }

        var profile = new ReaderProfile(context.Interests, line, votes);
        var matcher = new IssueMatcher(context.Listing.Select(p => new MatchablePaper(p.Id, p.Title, p.Abstract)).ToArray());
        if (_terms != "line" && context.Query.Terms.Count > 1 && vectors is ModelVectors byTerm)
        {
            return RankByTerms(context, matcher, byTerm, votes);
        }

        var sent = (int)knobs.Number("sent", 0);
        if (sent > 0 && line is not null && passages is not null)
        {
            var nearestPassage = Standardized(_standardisedPapers
                .Select(p => passages.Passages(p).Max(e => (float)e.Similarity(line))).ToArray());
            var whole = Standardized(_standardisedAmong.Select(p => (float)p.Similarity(line)).ToArray());
            var row = sent switch
            {
                1 => nearestPassage,
                2 => nearestPassage.Zip(whole, MathF.Max).ToArray(),
                _ => nearestPassage.Zip(whole, (a, b) => (a + b) / 2).ToArray(),
            };
            return RankWithLineRow(context, matcher, row, votes);
        }

        var digest = DigestRanker.Rank(_issue, profile, context.KeywordMatches, SuggestionFilter.Suggestible(matcher, context.Query), _limit, _settings);
        return new DigestOutcome(digest.Shown.Select(p => (int)p.PaperId).ToArray(), digest.Hidden.Count, digest.Suggestions.Count);
    }

    /// <summary>The digest with the line's row made from one vector per term (terms=max, maxz or maxzj).</summary>
    private DigestOutcome RankByTerms(DayContext context, IssueMatcher matcher, ModelVectors byTerm, ProfileVote[] votes)
    {
        var issue = _issue!;
        var wide = new float[_standardisedAmong.Length];
        wide.AsSpan().Fill(float.NegativeInfinity);
        foreach (var term in context.Query.Terms)
        {
            var termVector = byTerm.Query(term);
            var row = Standardized(_standardisedAmong.Select(p => (float)p.Similarity(termVector)).ToArray());
            for (var i = 0; i < wide.Length; i++)
            {
                wide[i] = MathF.Max(wide[i], row[i]);
            }
        }

        if (_terms is "maxz" or "maxzj")
        {
            wide = Standardized(wide);
        }

        if (_terms == "maxzj")
        {
            var joint = Standardized(_standardisedAmong.Select(p => (float)p.Similarity(vectors.Interests(context.Query)!)).ToArray());
            wide = wide.Zip(joint, MathF.Max).ToArray();
        }

        return RankWithLineRow(context, matcher, wide, votes);
    }

    /// <summary>The digest with the line's closeness to each paper (z-scores, the issue's papers first) given.</summary>
    private DigestOutcome RankWithLineRow(DayContext context, IssueMatcher matcher, float[] wide, ProfileVote[] votes)
    {
        var issue = _issue!;
        var positions = context.KeywordMatches.Select(m => issue.PositionOf(m.PaperId)).ToArray();
        var scores = context.KeywordMatches.Select(m => m.Score).ToArray();
        var inTitle = context.KeywordMatches.Select(m => m.InTitle).ToArray();
        var suggestible = SuggestionFilter.Suggestible(matcher, context.Query);
        var unsuggestible = suggestible is null ? [] : issue.PaperIds.Select(id => !suggestible.Contains(id)).ToArray();
        var ranking = new DigestRanking();
        DigestRanker.Rank(issue, wide.AsSpan(0, issue.PaperCount), new ProfileVotes(votes), positions, scores, inTitle, unsuggestible, _limit, ranking, _settings);
        var shown = new List<int>();
        foreach (var m in ranking.ShownMatches)
        {
            shown.Add((int)context.KeywordMatches[m].PaperId);
        }

        foreach (var i in ranking.Suggestions)
        {
            shown.Add((int)issue.PaperIds[i]);
        }

        return new DigestOutcome(shown, ranking.HiddenMatches.Length, ranking.Suggestions.Length);
    }

    /// <summary>(x − mean) / standard deviation, as the service standardises a row.</summary>
    private static float[] Standardized(float[] values)
    {
        var mean = values.Average();
        var sd = MathF.Sqrt(values.Select(x => (x - mean) * (x - mean)).Average());
        return values.Select(x => sd < 1e-6f ? 0 : (x - mean) / sd).ToArray();
    }
}
