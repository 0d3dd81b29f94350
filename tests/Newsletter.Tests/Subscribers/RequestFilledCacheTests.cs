using System.Globalization;
using Newsletter.Subscribers;

namespace Newsletter.Tests.Subscribers;

/// <summary>
/// The caches anonymous input reaches (the interests preview asks the matcher about any term; stored interests lines
/// come from the subscribe form) hold a bounded amount of memory however many distinct inputs arrive. Measured as
/// memory the cache keeps alive, so the class runs alone: other tests allocating at the same time would blur it.
/// </summary>
[Collection(nameof(RequestFilledCacheTests))]
[CollectionDefinition(nameof(RequestFilledCacheTests), DisableParallelization = true)]
public sealed class RequestFilledCacheTests
{
    /// <summary>What a cache may keep alive after the flood: its bound, plus room for the test's own noise.</summary>
    private const long RetainedBudget = 24L * 1024 * 1024;

    private static readonly MatchablePaper[] Papers = [.. Enumerable.Range(0, 70).Select(p => new MatchablePaper(
        1000 + p,
        string.Join(' ', Enumerable.Range(0, 8).Select(i => Word(p * 8 + i))),
        string.Join(' ', Enumerable.Range(0, 40).Select(i => Word((p * 31 + i * 7) % 2000)))))];

    [Fact]
    public void Match_FloodOfDistinctUnknownWordsAndKnownPhrases_MatcherKeepsBoundedMemoryAndStillMatches()
    {
        var matcher = new IssueMatcher(Papers);
        var expected = matcher.Match(InterestQuery.Parse(Word(3))).Select(m => m.PaperId).ToList();
        var before = GC.GetTotalMemory(forceFullCollection: true);

        for (var i = 0; i < 60_000; i++)
        {
            matcher.Match(InterestQuery.Parse("unheard" + i.ToString(CultureInfo.InvariantCulture)));
            matcher.Match(InterestQuery.Parse($"\"{Word(i % 2000)} {Word(i / 2000 * 7 % 2000)}\""));
        }

        var retained = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.True(retained < RetainedBudget, $"the matcher keeps {retained / 1024 / 1024} MB after 120,000 distinct terms");
        Assert.Equal(expected, matcher.Match(InterestQuery.Parse(Word(3))).Select(m => m.PaperId));
        GC.KeepAlive(matcher);
    }

    [Fact]
    public void GetOrParse_FloodOfLongDistinctLines_CacheKeepsBoundedMemory()
    {
        var cache = new InterestQueryCache();
        var before = GC.GetTotalMemory(forceFullCollection: true);

        for (var i = 0; i < 10_000; i++)
        {
            // 50 terms and close to the 500-character limit: the most a stored line can hold.
            var line = string.Join(' ', Enumerable.Range(0, 50).Select(t => $"t{i.ToString(CultureInfo.InvariantCulture)}x{t}"));
            cache.GetOrParse(line[..Math.Min(line.Length, InterestQuery.MaxLength)].TrimEnd());
        }

        var retained = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.True(retained < RetainedBudget, $"the cache keeps {retained / 1024 / 1024} MB after 10,000 long lines");
        GC.KeepAlive(cache);
    }

    private static string Word(int n) => "w" + n.ToString(CultureInfo.InvariantCulture) + "z";
}
