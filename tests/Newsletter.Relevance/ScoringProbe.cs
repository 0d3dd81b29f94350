using System.Diagnostics;
using System.Globalization;
using Newsletter.Subscribers;

namespace Newsletter.Relevance.Evaluation;

/// <summary>
/// What ranking costs in a fan-out: <see cref="DigestRanker.Rank"/> for many readers of one issue, each with its own
/// votes (drawn from the earlier days' papers) and one of the set's lines. One thread; no database.
/// </summary>
public static class ScoringProbe
{
    public static void Print(JudgementSet set, IPaperVectors vectors, int readers, int votesPerReader)
    {
        var day = set.Days.Count - 1;
        var listing = set.Listings[day];
        var issue = new IssueSimilarities(listing.Select(p => ((long)p.Id, vectors.Paper(p))).ToArray());
        var matcher = new IssueMatcher(listing.Select(p => new MatchablePaper(p.Id, p.Title, p.Abstract)).ToArray());
        var earlier = set.Papers.Where(p => p.Day < day).ToArray();
        var lines = set.Readers.Select(r => InterestQuery.Parse(r.Interests)).ToArray();
        var random = new Random(42);
        var profiles = new (ReaderProfile Profile, IReadOnlyList<PaperMatch> Matches)[readers];
        for (var r = 0; r < readers; r++)
        {
            var query = lines[r % lines.Length];
            var votes = Enumerable.Range(0, votesPerReader).Select(_ => earlier[random.Next(earlier.Length)])
                .DistinctBy(p => p.Id)
                .Select(p => new ProfileVote(p.Id, p.Title, vectors.Paper(p), random.Next(3) == 0))
                .ToArray();
            profiles[r] = (new ReaderProfile(query.ToString(), vectors.Interests(query), votes), matcher.Match(query));
        }

        var clock = Stopwatch.StartNew();
        var shown = 0;
        foreach (var (profile, matches) in profiles)
        {
            shown += DigestRanker.Rank(issue, profile, matches, null, 5).Suggestions.Count;
        }

        var elapsed = clock.Elapsed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"scenario\":\"rank\",\"readers\":{readers},\"votesPerReader\":{votesPerReader},\"issuePapers\":{listing.Count},\"seconds\":{elapsed.TotalSeconds:F3},\"microsecondsPerReader\":{elapsed.TotalMilliseconds * 1000 / readers:F1},\"suggestions\":{shown}}}"));
    }
}
