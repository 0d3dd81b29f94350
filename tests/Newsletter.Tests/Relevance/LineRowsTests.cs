using Newsletter.Relevance;
using Newsletter.Subscribers;

namespace Newsletter.Tests.Relevance;

public class LineRowsTests
{
    private static Embedding RandomVector(Random random)
    {
        var values = new float[384];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)(random.NextDouble() - 0.5);
        }

        return Embedding.Normalize(values);
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(5000, 5000)] // several blocks, the last one partly filled
    [InlineData(10, 2)] // more lines than expected: the matrix grows
    public void Add_LinesStreamedInBlocks_EachRowIsExactlyItsLineComputedAlone(int lines, int expected)
    {
        var random = new Random(11);
        var issue = new IssueSimilarities(Enumerable.Range(1, 7).Select(id => ((long)id, RandomVector(random))).ToArray());
        var vectors = Enumerable.Range(0, lines).Select(_ => RandomVector(random)).ToArray();

        var rows = new LineRows(issue, expected);
        for (var l = 0; l < lines; l++)
        {
            rows.Add($"line {l}", vectors[l]);
        }
        rows.Add("line 0", vectors[1]); // a line read twice keeps its first row
        rows.Complete();

        Assert.Equal(lines, rows.Count);
        for (var l = 0; l < lines; l++)
        {
            Assert.Equal(issue.InterestRow($"line {l}", vectors[l]), rows.Row(rows.RowStart($"line {l}")).ToArray());
        }
        Assert.Equal(-1, rows.RowStart("a line never read"));
    }

    [Theory]
    [InlineData("diffusion")]
    [InlineData("\"large language model\" OR LLM agents -survey")]
    [InlineData(null)] // terms longer than the stack buffer: the text is built as a string instead
    public void RowStart_ByQuery_FindsTheRowOfItsLinesText(string? line)
    {
        var random = new Random(5);
        var issue = new IssueSimilarities(Enumerable.Range(1, 7).Select(id => ((long)id, RandomVector(random))).ToArray());
        var query = InterestQuery.Parse(line ?? string.Join(' ', Enumerable.Range(0, 40).Select(i => $"keyword{i}")));
        var text = TextEmbedder.InterestsText(query);
        var rows = new LineRows(issue, 2);
        rows.Add("another line", RandomVector(random));
        rows.Add(text, RandomVector(random));
        rows.Complete();

        Assert.Equal(rows.RowStart(text), rows.RowStart(query));
        Assert.NotEqual(-1, rows.RowStart(query));
        Assert.Equal(-1, rows.RowStart(InterestQuery.Parse("a line never read")));
    }
}
