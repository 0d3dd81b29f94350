using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.Tests.Subscribers;

public class IssueMatcherTests
{
    private static readonly MatchablePaper[] Papers =
    [
        new(100, "Efficient Low-Rank Adaptation of Language Models", "We fine-tune large models with low rank updates."),
        new(101, "Segment Anything in Medical Images", "SAM applied to medical imaging: a state-of-the-art baseline."),
        new(102, "Ranking with Transformers", "A learning-to-order approach; ranking queries at scale."),
        new(103, "Diffusion Policies for Robots", "Denoising diffusion models drive the robot arm."),
        new(104, "A Survey of Image Generation", "We review diffusion, GANs and autoregressive models for images."),
        new(105, "Résumé Parsing with LLMs", "Parsing CVs (résumés) with large language models and a lowrank trick."),
    ];

    private static readonly IssueMatcher Matcher = new(Papers);

    private static long[] Ids(string interests) => Matcher.Match(InterestQuery.Parse(interests)).Select(m => m.PaperId).ToArray();

    private static long[] SortedIds(string interests) => [.. Ids(interests).Order()];

    [Fact]
    public void Match_EmptyQuery_ReturnsEveryPaperInIssueOrder()
    {
        var matches = Matcher.Match(InterestQuery.Parse(""));

        Assert.Equal([100L, 101, 102, 103, 104, 105], matches.Select(m => m.PaperId));
        Assert.Equal([0, 1, 2, 3, 4, 5], matches.Select(m => m.Position));
        Assert.All(matches, m => Assert.Empty(m.MatchedTerms));
    }

    [Fact]
    public void InTitle_SaysWhetherAKeywordIsInTheTitle_NotWhetherTheScoreIsAsHigh()
    {
        // Paper 105's abstract has three of the words (as many points as a title hit) and its title none; 104's title has "survey".
        var query = InterestQuery.Parse("large OR language OR lowrank OR survey");
        var positions = new int[Papers.Length];
        var scores = new double[Papers.Length];
        var inTitle = new bool[Papers.Length];

        var matches = Matcher.Match(query);
        var count = Matcher.MatchInto(query, positions, scores, inTitle);

        var abstractOnly = matches.Single(m => m.PaperId == 105);
        Assert.True(abstractOnly.Score >= IssueMatcher.TitleWeight, $"score {abstractOnly.Score}");
        Assert.False(abstractOnly.InTitle);
        Assert.True(matches.Single(m => m.PaperId == 104).InTitle);
        Assert.Equal(matches.Select(m => (m.Position, m.InTitle)), positions[..count].Zip(inTitle[..count]));
    }

    [Fact]
    public void Match_Word_IsCaseInsensitive()
    {
        Assert.Equal([103L, 104], SortedIds("DIFFUSION"));
    }

    [Fact]
    public void Match_ALineInMathematicalBold_MatchesThePlainWord()
    {
        Assert.Equal([103L, 104], SortedIds("\U0001D403\U0001D422\U0001D41F\U0001D41F\U0001D42E\U0001D42C\U0001D422\U0001D428\U0001D427"));
    }

    [Fact]
    public void Match_Word_MatchesWholeWordsOnly()
    {
        Assert.Equal([100L], SortedIds("rank"));
        Assert.Equal([102L], SortedIds("ranking"));
    }

    [Fact]
    public void Match_Hyphen_EqualsSpaceAndPhrase()
    {
        Assert.Equal([100L], SortedIds("low-rank"));
        Assert.Equal([100L], SortedIds("\"low rank\""));
        Assert.Equal([105L], SortedIds("lowrank"));
    }

    [Fact]
    public void Match_HyphenatedText_ContainsItsPartsAsWords()
    {
        Assert.Equal([101L], SortedIds("art"));
        Assert.Equal([101L], SortedIds("state-of-the-art"));
    }

    [Fact]
    public void Match_Plural_MatchesSingularAndBack()
    {
        Assert.Equal([100L, 103, 104, 105], SortedIds("model"));
        Assert.Equal([100L, 103, 104, 105], SortedIds("models"));
        Assert.Equal([102L], SortedIds("query"));
        Assert.Equal([101L, 104], SortedIds("image"));
    }

    [Fact]
    public void Match_Diacritics_AreFolded()
    {
        Assert.Equal([105L], SortedIds("resume"));
        Assert.Equal([105L], SortedIds("RÉSUMÉS"));
    }

    [Fact]
    public void Match_Phrase_RequiresWordsInOrder()
    {
        Assert.Equal([100L, 105], SortedIds("\"language models\""));
        Assert.Empty(Ids("\"models language\""));
    }

    [Fact]
    public void Match_Phrase_DoesNotSpanTitleAndAbstract()
    {
        Assert.Empty(Ids("\"robots denoising\""));
    }

    [Fact]
    public void Match_SpaceSeparatedTerms_AreAnded()
    {
        Assert.Equal([104L], SortedIds("diffusion survey"));
    }

    [Fact]
    public void Match_Or_BindsTighterThanAnd()
    {
        Assert.Equal([103L, 104], SortedIds("models robot OR survey"));
        Assert.Equal([101L, 102], SortedIds("\"segment anything\" OR SAM OR ranking"));
    }

    [Fact]
    public void Match_Exclusion_RemovesPapersWithTheTermAnywhere()
    {
        Assert.Equal([103L], SortedIds("diffusion -gan"));
        Assert.Equal([100L, 103, 104], SortedIds("models -\"large language\""));
    }

    [Fact]
    public void Match_OnlyExclusions_ReturnsEveryOtherPaper()
    {
        var matches = Matcher.Match(InterestQuery.Parse("-medical -diffusion"));

        Assert.Equal([100L, 102, 105], matches.Select(m => m.PaperId));
        Assert.All(matches, m => Assert.Equal(0, m.Score));
    }

    [Fact]
    public void Match_UnknownWord_MatchesNothing()
    {
        Assert.Empty(Ids("quantum"));
        Assert.Empty(Ids("quantum diffusion"));
    }

    [Fact]
    public void Match_TitleHit_RanksAboveAbstractOnlyHit()
    {
        var matches = Matcher.Match(InterestQuery.Parse("diffusion"));

        Assert.Equal([103L, 104], matches.Select(m => m.PaperId));
        Assert.True(matches[0].Score > matches[1].Score);
    }

    [Fact]
    public void Match_EqualScores_KeepIssueOrder()
    {
        var matches = Matcher.Match(InterestQuery.Parse("parsing OR ranking"));

        Assert.Equal([102L, 105], matches.Select(m => m.PaperId));
        Assert.Equal(matches[0].Score, matches[1].Score);
        var tie = Matcher.Match(InterestQuery.Parse("large"));
        Assert.Equal([100L, 105], tie.Select(m => m.PaperId));
        Assert.Equal(tie[0].Score, tie[1].Score);
    }

    [Fact]
    public void Match_MatchedTerms_AreReportedAsTypedInQueryOrder()
    {
        var matches = Matcher.Match(InterestQuery.Parse("Low-Rank OR \"segment  anything\" OR Diffusions -robot"));

        Assert.Equal([100L, 101, 104], matches.Select(m => m.PaperId).Order());
        Assert.Equal(["Low-Rank"], matches.Single(m => m.PaperId == 100).MatchedTerms);
        Assert.Equal(["segment anything"], matches.Single(m => m.PaperId == 101).MatchedTerms);
        Assert.Equal(["Diffusions"], matches.Single(m => m.PaperId == 104).MatchedTerms);
    }

    [Fact]
    public void Match_SeveralTermsHit_ScoresAddUp()
    {
        var both = Matcher.Match(InterestQuery.Parse("diffusion OR robot")).Single(m => m.PaperId == 103);
        var one = Matcher.Match(InterestQuery.Parse("diffusion")).Single(m => m.PaperId == 103);

        Assert.Equal(["diffusion", "robot"], both.MatchedTerms);
        Assert.True(both.Score > one.Score);
    }

    [Fact]
    public void Match_ManyPapers_SpansSeveralBitsetWords()
    {
        var papers = Enumerable.Range(0, 200)
            .Select(i => new MatchablePaper(i, $"Paper {i}", i % 3 == 0 ? "about diffusion" : "about other things"))
            .ToArray();
        var matcher = new IssueMatcher(papers);

        var matches = matcher.Match(InterestQuery.Parse("diffusion"));

        Assert.Equal(Enumerable.Range(0, 200).Where(i => i % 3 == 0).Select(i => (long)i), matches.Select(m => m.PaperId));
    }

    [Fact]
    public void Match_NoPapers_ReturnsNothing()
    {
        var matcher = new IssueMatcher([]);

        Assert.Empty(matcher.Match(InterestQuery.Parse("diffusion")));
        Assert.Empty(matcher.Match(InterestQuery.Parse("")));
    }

    [Fact]
    public void Match_ConcurrentCallers_AgreeWithSequentialResults()
    {
        var lines = new[] { "diffusion", "models -gan", "\"low rank\" OR sam", "image OR images", "ranking", "-medical" };
        var expected = lines.Select(l => string.Join(',', Ids(l))).ToArray();
        var matcher = new IssueMatcher(Papers);
        var queries = lines.Select(l => InterestQuery.Parse(l)).ToArray();

        var actual = new string[600];
        Parallel.For(0, actual.Length, i => actual[i] = string.Join(',', matcher.Match(queries[i % lines.Length]).Select(m => m.PaperId)));

        for (var i = 0; i < actual.Length; i++)
        {
            Assert.Equal(expected[i % lines.Length], actual[i]);
        }
    }

    [Fact]
    public void Highlight_Terms_ReturnsSpansOfTheOriginalText()
    {
        const string text = "Low-Rank adapters beat low rank baselines; Models and MODEL.";
        var query = InterestQuery.Parse("low-rank model -baseline");

        var spans = IssueMatcher.Highlight(text, query);

        Assert.Equal(["Low-Rank", "low rank", "Models", "MODEL"], spans.Select(s => text.Substring(s.Start, s.Length)));
    }

    [Fact]
    public void Highlight_OverlappingTerms_AreMerged()
    {
        const string text = "segment anything model";
        var query = InterestQuery.Parse("\"segment anything\" OR \"anything model\"");

        var spans = IssueMatcher.Highlight(text, query);

        Assert.Equal([new HighlightSpan(0, text.Length)], spans);
    }

    [Fact]
    public void Highlight_Accents_SpanTheOriginalCharacters()
    {
        const string text = "Parsing résumés (Résumé).";

        var spans = IssueMatcher.Highlight(text, InterestQuery.Parse("resume"));

        Assert.Equal(["résumés", "Résumé"], spans.Select(s => text.Substring(s.Start, s.Length)));
    }

    [Fact]
    public void Highlight_EmptyQueryOrText_ReturnsNoSpans()
    {
        Assert.Empty(IssueMatcher.Highlight("anything", InterestQuery.Parse("")));
        Assert.Empty(IssueMatcher.Highlight("", InterestQuery.Parse("anything")));
    }
}
