using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.Tests.Subscribers;

public class InterestQueryTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   \t ")]
    public void Parse_Blank_IsEmpty(string? text)
    {
        var query = InterestQuery.Parse(text);

        Assert.True(query.IsEmpty);
        Assert.Empty(query.Terms);
        Assert.Equal("", query.ToString());
    }

    [Fact]
    public void Parse_WordsPhrasesOrAndExclusions_ReportsTermsAsTyped()
    {
        var query = InterestQuery.Parse("  diffusion \"Low-Rank   Adaptation\"  -medical SAM OR \"segment anything\" -\"x ray\" ");

        Assert.False(query.IsEmpty);
        Assert.Equal(["diffusion", "Low-Rank Adaptation", "SAM", "segment anything"], query.Terms);
        Assert.Equal(["medical", "x ray"], query.ExcludedTerms);
        Assert.Equal("diffusion \"Low-Rank Adaptation\" -medical SAM OR \"segment anything\" -\"x ray\"", query.ToString());
    }

    [Theory]
    [InlineData("a b OR c -d")]
    [InlineData("\"low rank\" OR lora -\"medical imaging\" gpt-4")]
    [InlineData("-medical")]
    public void ToString_Reparsed_GivesSameCanonicalForm(string text)
    {
        var canonical = InterestQuery.Parse(text).ToString();

        Assert.Equal(canonical, InterestQuery.Parse(canonical).ToString());
    }

    [Fact]
    public void Parse_OnlyExclusions_IsAllowedAndNotEmpty()
    {
        var query = InterestQuery.Parse("-medical -\"protein folding\"");

        Assert.False(query.IsEmpty);
        Assert.Empty(query.Terms);
        Assert.Equal(["medical", "protein folding"], query.ExcludedTerms);
    }

    [Fact]
    public void Parse_LowercaseOr_IsAnOrdinaryWord()
    {
        var query = InterestQuery.Parse("rock or roll");

        Assert.Equal(["rock", "or", "roll"], query.Terms);
    }

    [Fact]
    public void Parse_HyphenInsideWord_IsNotAnExclusion()
    {
        var query = InterestQuery.Parse("state-of-the-art gpt-4");

        Assert.Equal(["state-of-the-art", "gpt-4"], query.Terms);
        Assert.Empty(query.ExcludedTerms);
    }

    [Theory]
    [InlineData("diffusion \"low rank", 10, "never closed")]
    [InlineData("\"", 0, "never closed")]
    [InlineData("a \"\" b", 2, "empty")]
    [InlineData("a \"  \" b", 2, "empty")]
    [InlineData("diffusion - medical", 10, "lone \"-\"")]
    [InlineData("diffusion -", 10, "lone \"-\"")]
    [InlineData("OR diffusion", 0, "nothing before")]
    [InlineData("diffusion OR", 10, "nothing after")]
    [InlineData("a OR OR b", 5, "follows another OR")]
    [InlineData("a -b OR c", 5, "follows an exclusion")]
    [InlineData("a OR -b", 5, "follows OR")]
    [InlineData("a & b", 2, "no letters or digits")]
    [InlineData("a \"--\"", 2, "no letters or digits")]
    [InlineData("a --", 3, "no letters or digits")]
    public void Parse_InvalidSyntax_ThrowsWithMessageAndPosition(string text, int position, string messagePart)
    {
        var error = Assert.Throws<InterestSyntaxException>(() => InterestQuery.Parse(text));

        Assert.Equal(position, error.Position);
        Assert.Contains(messagePart, error.Message, StringComparison.Ordinal);
        Assert.Contains($"character {position + 1}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rocket\U0001F680 \"low rank", 9, 9)]
    [InlineData("e\u0301te de\U0001F1E9\U0001F1EA \"", 12, 9)]
    public void Parse_InvalidSyntaxAfterAnEmojiOrAnAccent_CountsCharactersAsTheReaderSeesThem(string text, int position, int character)
    {
        // 🚀 is two UTF-16 units, a flag four, é written as e and a combining accent two: each is one character on screen.
        var error = Assert.Throws<InterestSyntaxException>(() => InterestQuery.Parse(text));

        Assert.Equal(position, error.Position);
        Assert.StartsWith($"The quote at character {character} is never closed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TooLong_ThrowsAtTheLimit()
    {
        var text = string.Join(' ', Enumerable.Repeat("word", 101));

        var error = Assert.Throws<InterestSyntaxException>(() => InterestQuery.Parse(text));

        Assert.Equal(InterestQuery.MaxLength, error.Position);
        Assert.Contains("500 characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AnExclusionOfOnlyAFlag_PointsAtTheFlag()
    {
        var error = Assert.Throws<InterestSyntaxException>(() => InterestQuery.Parse("x -\U0001F1E9\U0001F1EA"));

        Assert.Equal(3, error.Position);
        Assert.StartsWith("\"\U0001F1E9\U0001F1EA\" at character 4 has no letters or digits", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnderFiveHundredCharactersAsSeenButOverFiveHundredUtf16Units_IsAccepted()
    {
        // 45 terms of ten characters each (two letters, eight rockets: 18 UTF-16 units): 494 characters on screen, 854 units.
        var text = string.Join(' ', Enumerable.Repeat("ab" + string.Concat(Enumerable.Repeat("\U0001F680", 8)), 45));

        Assert.Equal(45, InterestQuery.Parse(text).Terms.Count);
    }

    [Fact]
    public void Parse_OverFiveHundredCharactersAsSeen_CountsAndPointsAtTheFirstOneOver()
    {
        // 501 characters on screen: the flags are four UTF-16 units each.
        var text = "a " + string.Concat(Enumerable.Repeat("\U0001F1E9\U0001F1EA", 100)) + string.Join(' ', Enumerable.Repeat("word", 80));

        var error = Assert.Throws<InterestSyntaxException>(() => InterestQuery.Parse(text));

        Assert.Equal("Interests are limited to 500 characters; this line has 501.", error.Message);
        Assert.Equal(text.Length - 1, error.Position);
    }

    [Fact]
    public void Parse_AnIdeographOutsideTheBasicMultilingualPlane_IsATerm()
    {
        Assert.Equal(["\U00020000"], InterestQuery.Parse("\U00020000").Terms);
    }

    [Fact]
    public void Parse_TooManyTerms_ThrowsAtTheFirstTermOverTheLimit()
    {
        var text = string.Join(' ', Enumerable.Range(0, 51).Select(i => $"w{i}"));

        var error = Assert.Throws<InterestSyntaxException>(() => InterestQuery.Parse(text));

        Assert.Equal(text.IndexOf("w50", StringComparison.Ordinal), error.Position);
        Assert.Contains("at most 50", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FiftyTerms_IsAccepted()
    {
        var text = string.Join(' ', Enumerable.Range(0, 50).Select(i => $"w{i}"));

        Assert.Equal(50, InterestQuery.Parse(text).Terms.Count);
    }

    [Fact]
    public void TryParse_Invalid_ReturnsFalseWithTheSameMessage()
    {
        var ok = InterestQuery.TryParse("a OR", out var query, out var error);

        Assert.False(ok);
        Assert.Null(query);
        Assert.Equal(Assert.Throws<InterestSyntaxException>(() => InterestQuery.Parse("a OR")).Message, error);
    }

    [Fact]
    public void TryParse_Valid_ReturnsQuery()
    {
        var ok = InterestQuery.TryParse("\"segment anything\" OR SAM", out var query, out var error);

        Assert.True(ok);
        Assert.Null(error);
        Assert.Equal(["segment anything", "SAM"], query!.Terms);
    }

    [Fact]
    public void GetOrParse_SameLine_ReturnsTheSameInstance()
    {
        var cache = new InterestQueryCache();

        var first = cache.GetOrParse("diffusion -medical");
        var second = cache.GetOrParse("diffusion -medical");

        Assert.Same(first, second);
        Assert.Same(InterestQuery.Empty, cache.GetOrParse("  "));
        Assert.Throws<InterestSyntaxException>(() => cache.GetOrParse("\"open"));
    }

    [Fact]
    public void GetOrParse_MoreDistinctLinesThanCapacity_StaysBoundedAndStillAnswers()
    {
        var cache = new InterestQueryCache();

        for (var i = 0; i < InterestQueryCache.Capacity * 2 + 10; i++)
        {
            Assert.Equal([$"topic{i}"], cache.GetOrParse($"topic{i}").Terms);
        }

        Assert.InRange(cache.Count, 1, InterestQueryCache.Capacity);
    }
}
