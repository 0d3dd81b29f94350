using System.Text.RegularExpressions;
using CsCheck;
using Newsletter.Inbox;

namespace Newsletter.Tests.Inbox;

public sealed partial class ListingReaderLinkListTests
{
    [Theory]
    [InlineData("https://arxiv.org/abs/2503.01234", true)]
    [InlineData("https://arxiv.org/abs/2503.01234 https://github.com/a/b", true)]
    [InlineData("Code: https://github.com/a/b", true)]
    [InlineData("Project page:https://a.example/", true)]
    [InlineData("HTTPS://A.EXAMPLE/x", true)]
    [InlineData("https://", false)]
    [InlineData("see https://a.example/", false)]
    [InlineData("https://a.example/ and more", false)]
    [InlineData("a label that is far too long: https://a.example/", false)]
    public void IsLinkList_Paragraph_TellsALinkListFromText(string text, bool expected)
    {
        Assert.Equal(expected, ListingReader.IsLinkList(text));
    }

    [Fact]
    public void IsLinkList_LinkFollowedBySixtyRepeatedSchemesAndAWord_IsText()
    {
        Assert.False(ListingReader.IsLinkList("https://a.example/" + string.Concat(Enumerable.Repeat("http://", 60)) + " word"));
    }

    [Fact]
    public void IsLinkList_ShortTexts_AgreesWithThePatternItReplaces()
    {
        var words = Gen.OneOf("https://", "http://", "HTTP://", "a.example/", "http", " ", "  ", "\t", "Code", ":", ": ", "word", "x_y", "é", "1");
        var texts = words.Array[1, 12].Select(string.Concat);

        texts.Sample(text => Assert.Equal(OldPattern().IsMatch(text), ListingReader.IsLinkList(text)), iter: 5_000);
    }

    // The pattern the scan replaced; exponential on long inputs, so only short ones are compared.
    [GeneratedRegex("""^(?:[\w ]{0,20}:\s*)?(?:https?://\S+\s*)+$""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OldPattern();
}
