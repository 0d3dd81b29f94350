using System.Text.RegularExpressions;
using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.Tests.Subscribers;

/// <summary>The matcher on the real 70-paper sample, checked against regular expressions written independently.</summary>
public partial class SampleIssueTests
{
    private static readonly MatchablePaper[] Papers = ReadSample();
    private static readonly IssueMatcher Matcher = new(Papers);

    [Fact]
    public void ReadSample_TheSample_Has70Papers()
    {
        Assert.Equal(70, Papers.Length);
        Assert.Equal("Unsupervised Manifold Linearizing and Clustering", Papers[0].Title);
    }

    [Theory]
    [InlineData("diffusion")]
    [InlineData("diffusion OR \"language model\" -medical")]
    [InlineData("model agent")]
    [InlineData("reasoning OR reinforcement OR video OR robot")]
    [InlineData("")]
    [InlineData("zyzzyva")]
    public void MatchPaperIds_SampleQueries_SamePapersSameOrderAndTotalScoreAsMatch(string interests)
    {
        var query = InterestQuery.Parse(interests);
        var full = Matcher.Match(query);

        var ids = Matcher.MatchPaperIds(query, out var total);

        Assert.Equal(full.Select(m => m.PaperId), ids);
        Assert.Equal(full.Sum(m => m.Score), total, 9);
    }

    [Theory]
    [InlineData("diffusion", @"\bdiffusions?\b")]
    [InlineData("Diffusions", @"\bdiffusions?\b")]
    [InlineData("model", @"\bmodels?\b")]
    [InlineData("ensemble", @"\bensembles?\b")]
    [InlineData("query", @"\bquer(y|ies)\b")]
    [InlineData("class", @"\bclass(es)?\b")]
    [InlineData("3d", @"\b3ds?\b")]
    [InlineData("rank", @"\branks?\b")]
    [InlineData("low-rank", @"\blow[\s-]+rank\b")]
    [InlineData("\"large language models\"", @"\blarge[\s-]+language[\s-]+models?\b")]
    public void Match_SampleTerm_SelectsExactlyThePapersTheOracleFinds(string interests, string oracle)
    {
        var regex = new Regex(oracle, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        var expected = Papers.Where(p => regex.IsMatch(p.Title) || regex.IsMatch(p.Abstract)).Select(p => p.PaperId).Order();

        var actual = Matcher.Match(InterestQuery.Parse(interests)).Select(m => m.PaperId).Order();

        Assert.NotEmpty(expected);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Match_SampleOrAndExclusion_AgreesWithTheOracle()
    {
        var diffusion = Regex("diffusions?");
        var image = Regex("images?");
        var video = Regex("videos?");
        var text = Regex("texts?");
        bool In(Regex r, MatchablePaper p) => r.IsMatch(p.Title) || r.IsMatch(p.Abstract);
        var expected = Papers.Where(p => In(diffusion, p) && (In(image, p) || In(video, p)) && !In(text, p)).Select(p => p.PaperId).Order();

        var actual = Matcher.Match(InterestQuery.Parse("diffusion image OR videos -text")).Select(m => m.PaperId).Order();

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Match_SampleTitleHits_RankAboveAbstractOnlyHits()
    {
        var matches = Matcher.Match(InterestQuery.Parse("diffusion"));
        var titleRegex = Regex("diffusions?");

        var inTitle = matches.Select(m => titleRegex.IsMatch(Papers[m.Position].Title)).ToArray();

        Assert.Contains(true, inTitle);
        Assert.Contains(false, inTitle);
        Assert.Equal(inTitle.OrderByDescending(t => t), inTitle);
    }

    [Fact]
    public void Highlight_SampleAbstract_SpansCoverTheTermInTheOriginalText()
    {
        var query = InterestQuery.Parse("\"state of the art\" OR datasets");

        foreach (var paper in Papers)
        {
            var spans = IssueMatcher.Highlight(paper.Abstract, query);
            var pieces = spans.Select(s => paper.Abstract.Substring(s.Start, s.Length));

            var expected = Regex(@"states?[\s-]+of[\s-]+the[\s-]+arts?|datasets?").Matches(paper.Abstract).Select(m => m.Value);
            Assert.Equal(expected, pieces);
        }
    }

    private static Regex Regex(string pattern) =>
        new($@"\b(?:{pattern})\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>Reads the plain-text sample: boilerplate, a date line ("Mar 11"), then title and abstract paragraphs.</summary>
    private static MatchablePaper[] ReadSample()
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "TestData", "trending-papers-2025-03-11.txt"))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0)
            .ToList();
        var start = lines.FindIndex(l => DateLine().IsMatch(l)) + 1;
        var papers = new List<MatchablePaper>();
        for (var i = start; i + 1 < lines.Count; i += 2)
        {
            papers.Add(new MatchablePaper(papers.Count + 1, lines[i], lines[i + 1]));
        }

        return [.. papers];
    }

    [GeneratedRegex(@"^[A-Z][a-z]{2} \d{1,2}$")]
    private static partial Regex DateLine();
}
