using Newsletter.Relevance;

namespace Newsletter.Tests.Relevance;

public class IssueSimilaritiesTests
{
    private const int Dimensions = 384;

    private static Embedding RandomVector(Random random)
    {
        var values = new float[Dimensions];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)(random.NextDouble() - 0.5);
        }

        return Embedding.Normalize(values);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(5, 0)]
    [InlineData(1, 6)]
    [InlineData(5, 6)]
    public void InterestRows_LinesComputedTogether_EachRowIsExactlyItsLineComputedAlone(int lines, int reference)
    {
        var random = new Random(7);
        // Seven papers: a block of four and three left over, as an issue's count rarely divides evenly.
        var issue = new IssueSimilarities(Enumerable.Range(1, 7).Select(id => ((long)id, RandomVector(random))).ToArray(),
            [.. Enumerable.Range(0, reference).Select(_ => RandomVector(random))]);
        var vectors = Enumerable.Range(0, lines).Select(_ => RandomVector(random)).ToArray();

        var rows = issue.InterestRows(vectors);

        for (var l = 0; l < lines; l++)
        {
            Assert.Equal(issue.InterestRow($"line {l}", vectors[l]), rows.AsSpan(l * issue.PaperCount, issue.PaperCount).ToArray());
        }
    }

    [Fact]
    public void InterestRow_WithTheListingBefore_IsTheIssuesZScoresAmongBothListings()
    {
        var random = new Random(11);
        var papers = Enumerable.Range(1, 5).Select(id => ((long)id, RandomVector(random))).ToArray();
        var before = Enumerable.Range(0, 9).Select(_ => RandomVector(random)).ToArray();
        var line = RandomVector(random);

        var row = new IssueSimilarities(papers, before).InterestRow("line", line);

        var cosines = papers.Select(p => (double)p.Item2.Similarity(line)).Concat(before.Select(b => (double)b.Similarity(line))).ToArray();
        var mean = cosines.Average();
        var sd = Math.Sqrt(cosines.Average(c => (c - mean) * (c - mean)));
        Assert.Equal(papers.Length, row.Length);
        for (var i = 0; i < papers.Length; i++)
        {
            Assert.Equal((cosines[i] - mean) / sd, row[i], 4);
        }
    }

    [Fact]
    public void InterestRow_MoreLinesThanItKeeps_StopsKeepingThemAndStillGivesEachItsRow()
    {
        // Previews read any line typed on the web against the latest issue, which lives for a day.
        var random = new Random(13);
        var issue = new IssueSimilarities(Enumerable.Range(1, 3).Select(id => ((long)id, RandomVector(random))).ToArray());
        var vector = RandomVector(random);

        for (var l = 0; l < IssueSimilarities.MaxKeptInterestRows + 100; l++)
        {
            issue.InterestRow($"line {l}", vector);
        }
        var late = issue.InterestRow("a line typed late", vector);

        Assert.Equal(IssueSimilarities.MaxKeptInterestRows, issue.CachedRows);
        Assert.Equal(issue.InterestRow("line 0", vector), late);
    }
}
