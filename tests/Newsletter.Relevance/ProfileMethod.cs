using Newsletter.Subscribers;

namespace Newsletter.Relevance.Evaluation;

/// <summary>
/// The service's method, through the service's own classes: <see cref="IssueSimilarities"/> per day,
/// <see cref="ReaderProfile"/> from the line's vector and the votes, <see cref="DigestRanker"/> for the digest.
/// Knobs: model (minilm | arctic | tfidf | any of <see cref="ModelChoice.Named"/>, or blend=share with tfidf), sz
/// (suggestion threshold), title (title bonus), limit (suggestions), jitter=cosine with seed=n (every vector moved at
/// random to that cosine from itself: <see cref="JitteredVectors"/>), ref=day (standardise within the day alone, as
/// before 2026-12-06, instead of with the listing before).
/// </summary>
public sealed class ProfileMethod(Knobs knobs, IPaperVectors vectors, IReadOnlyList<SetPaper> allPapers) : IRelevanceMethod
{
    private readonly RelevanceSettings _settings = new()
    {
        SuggestionThreshold = knobs.Number("sz", RelevanceSettings.Default.SuggestionThreshold),
        TitleBonus = knobs.Number("title", RelevanceSettings.Default.TitleBonus),
        HideMargin = knobs.Number("hide", RelevanceSettings.Default.HideMargin),
        SuggestOnNetScore = knobs.Number("net", RelevanceSettings.Default.SuggestOnNetScore ? 1 : 0) > 0,
    };

    private readonly int _limit = (int)knobs.Number("limit", 5);
    private int _day = -1;
    private IssueSimilarities? _issue;

    public string Name => knobs.Spec;

    public DigestOutcome Decide(DayContext context)
    {
        if (_day != context.Day || _issue is null)
        {
            // One per issue, shared by every reader, as in a fan-out; standardised with the listing before it, as the
            // service's fan-out does (RelevanceStore.LoadForFanOutAsync), unless ref=day.
            var inIssue = context.Listing.Select(p => p.Id).ToHashSet();
            var before = knobs.Text("ref", "before") == "day" ? []
                : allPapers.Where(p => p.Day == context.Day - 1 && !inIssue.Contains(p.Id)).Select(vectors.Paper).ToArray();
            _issue = new IssueSimilarities(context.Listing.Select(p => ((long)p.Id, vectors.Paper(p))).ToArray(), before);
            _day = context.Day;
        }

        var votes = context.Votes
            .Select(v => new ProfileVote(v.PaperId, allPapers[v.PaperId].Title, vectors.Paper(allPapers[v.PaperId]), v.More))
            .ToArray();
        var profile = new ReaderProfile(context.Interests, vectors.Interests(context.Query), votes);
        var matcher = new IssueMatcher(context.Listing.Select(p => new MatchablePaper(p.Id, p.Title, p.Abstract)).ToArray());
        var digest = DigestRanker.Rank(_issue, profile, context.KeywordMatches, SuggestionFilter.Suggestible(matcher, context.Query), _limit, _settings);
        return new DigestOutcome(digest.Shown.Select(p => (int)p.PaperId).ToArray(), digest.Hidden.Count, digest.Suggestions.Count);
    }
}
