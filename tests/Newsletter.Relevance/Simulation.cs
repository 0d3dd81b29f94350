using Newsletter.Subscribers;

namespace Newsletter.Relevance.Evaluation;

/// <summary>A vote cast from a digest: "More like this" (true) or "Less like this" (false).</summary>
public sealed record Vote(int PaperId, bool More);

/// <summary>What a digest shows, in order (keyword matches first, then "Also for you"), and how many matches it hid.</summary>
public sealed record DigestOutcome(IReadOnlyList<int> Shown, int Hidden, int Suggested);

/// <summary>What a method sees of a day for one reader: never the reader's description or judgements.</summary>
public sealed record DayContext(
    int Day,
    string Interests,
    InterestQuery Query,
    IReadOnlyList<Vote> Votes,
    IReadOnlyList<SetPaper> Listing,
    IReadOnlyList<PaperMatch> KeywordMatches);

/// <summary>A way to build a digest; one instance per run, asked once per reader and day in day order.</summary>
public interface IRelevanceMethod
{
    string Name { get; }

    DigestOutcome Decide(DayContext context);
}

/// <summary>One reader's scores over the scored days.</summary>
public sealed record ReaderScore(
    string Method, string Reader, double Precision, double Recall, double F1, double Ndcg10,
    int Shown, int RelevantShown, int Relevant, int Hidden, int Suggested, int SuggestedRelevant, int VotesMore, int VotesLess);

/// <summary>
/// The protocol of the relevance issue: each reader subscribes with their keyword line; days arrive in order; on the
/// voting days the reader votes on up to <see cref="VotesPerDay"/> papers of each digest in the order shown ("More"
/// when relevant, else "Less"); the remaining days are scored: precision, recall and F1 of the papers shown summed
/// over days, nDCG@10 of their order averaged over the days that have a relevant paper.
/// </summary>
public static class Simulation
{
    public const int VotingDays = 5;
    public const int VotesPerDay = 5;

    public static ReaderScore Run(IRelevanceMethod method, JudgementSet set, SetReader reader)
    {
        var query = InterestQuery.Parse(reader.Interests);
        var votes = new List<Vote>();
        int shown = 0, relevantShown = 0, relevant = 0, hidden = 0, suggested = 0, suggestedRelevant = 0;
        var ndcgs = new List<double>();
        for (var day = 0; day < set.Days.Count; day++)
        {
            var listing = set.Listings[day];
            var matcher = new IssueMatcher(listing.Select(p => new MatchablePaper(p.Id, p.Title, p.Abstract)).ToArray());
            var matches = matcher.Match(query);
            var digest = method.Decide(new DayContext(day, reader.Interests, query, votes.ToArray(), listing, matches));
            bool IsRelevant(int id) => reader.Relevant.Contains(set.Papers[id].ArxivId);
            if (day < VotingDays)
            {
                votes.AddRange(digest.Shown.Take(VotesPerDay).Select(id => new Vote(id, IsRelevant(id))));
                continue;
            }

            var dayRelevant = listing.Count(p => reader.Relevant.Contains(p.ArxivId));
            relevant += dayRelevant;
            shown += digest.Shown.Count;
            relevantShown += digest.Shown.Count(IsRelevant);
            hidden += digest.Hidden;
            suggested += digest.Suggested;
            suggestedRelevant += digest.Shown.Skip(digest.Shown.Count - digest.Suggested).Count(IsRelevant);
            if (dayRelevant > 0)
            {
                ndcgs.Add(Ndcg(digest.Shown.Select(IsRelevant).ToArray(), dayRelevant, 10));
            }
        }

        var precision = shown == 0 ? 0 : (double)relevantShown / shown;
        var recall = relevant == 0 ? 0 : (double)relevantShown / relevant;
        var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return new ReaderScore(method.Name, reader.Id, precision, recall, f1, ndcgs.Count == 0 ? 0 : ndcgs.Average(),
            shown, relevantShown, relevant, hidden, suggested, suggestedRelevant, votes.Count(v => v.More), votes.Count(v => !v.More));
    }

    /// <summary>nDCG@k with binary gains: the ideal list puts the day's relevant papers first.</summary>
    public static double Ndcg(IReadOnlyList<bool> shownRelevance, int relevantCount, int k)
    {
        double dcg = 0, ideal = 0;
        for (var i = 0; i < Math.Min(k, shownRelevance.Count); i++)
        {
            dcg += shownRelevance[i] ? 1 / Math.Log2(i + 2) : 0;
        }

        for (var i = 0; i < Math.Min(k, relevantCount); i++)
        {
            ideal += 1 / Math.Log2(i + 2);
        }

        return ideal == 0 ? 0 : dcg / ideal;
    }
}
