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
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void InterestRows_LinesComputedTogether_EachRowIsExactlyItsLineComputedAlone(int lines)
    {
        var random = new Random(7);
        // Seven papers: a block of four and three left over, as an issue's count rarely divides evenly.
        var issue = new IssueSimilarities(Enumerable.Range(1, 7).Select(id => ((long)id, RandomVector(random))).ToArray());
        var vectors = Enumerable.Range(0, lines).Select(_ => RandomVector(random)).ToArray();

        var rows = issue.InterestRows(vectors);

        for (var l = 0; l < lines; l++)
        {
            Assert.Equal(issue.InterestRow($"line {l}", vectors[l]), rows.AsSpan(l * issue.PaperCount, issue.PaperCount).ToArray());
        }
    }
}
