using Newsletter.Papers;

namespace Newsletter.Tests.Papers;

public sealed class TextNormalizerTests
{
    [Theory]
    [InlineData("  A\tB\u00A0\u00A0C\r\n D\u2028E  ", "A B C D E")]
    [InlineData("Cafe\u0301", "Café")]
    [InlineData("bell\u0007 and\u200B zero\u00ADwidth", "bell and zerowidth")]
    [InlineData("accuracy by 2.19\\% over", "accuracy by 2.19% over")]
    [InlineData("computational Schr\\\"odinger Bridges", "computational Schrödinger Bridges")]
    [InlineData("due to their \\( O(n^3) \\) time", "due to their O(n^3) time")]
    [InlineData("subspaces (i.e.~points in", "subspaces (i.e. points in")]
    [InlineData("about ~30% faster", "about ~30% faster")]
    [InlineData("mathfrak S^{2/p} for 1leq p<2", "mathfrak S^{2/p} for 1leq p<2")]
    [InlineData("at https://example.org/~user/x.", "at https://example.org/~user/x.")]
    [InlineData("<script>alert(1)</script> Paper", "<script>alert(1)</script> Paper")]
    // Non-ASCII text: left alone when it is already normal, normalised when one character needs it.
    [InlineData("Über Modelle — „Qualität“ 😀 ∑", "Über Modelle — „Qualität“ 😀 ∑")]
    [InlineData("Über\u2009Modelle — Cafe\u0301 😀", "Über Modelle — Café 😀")]
    public void Normalize_Text_IsReadableAndLiteral(string input, string expected)
    {
        Assert.Equal(expected, TextNormalizer.Normalize(input));
    }

    [Fact]
    public void Normalize_LoneSurrogateAfterAnEmoji_IsReplacedAndTheEmojiKept()
    {
        // Built in code: an attribute argument cannot carry a lone surrogate.
        var input = "Über Modelle\u200B \U0001F600" + '\uDE00';
        Assert.Equal("Über Modelle \U0001F600\uFFFD", TextNormalizer.Normalize(input));
    }

    [Fact]
    public void Normalize_EntitiesWhenAsked_AreDecodedOnce()
    {
        Assert.Equal("FLoRA's <b> & co", TextNormalizer.Normalize("FLoRA&#x27;s &lt;b&gt; &amp; co", decodeHtmlEntities: true));
        Assert.Equal("&lt;", TextNormalizer.Normalize("&amp;lt;", decodeHtmlEntities: true));
        Assert.Equal("a &amp; b", TextNormalizer.Normalize("a &amp; b"));
    }

    [Fact]
    public void Normalize_AlreadyNormalText_IsUnchanged()
    {
        const string text = "Light Schrödinger Bridge: 2.19% (i.e. points)";

        Assert.Equal(text, TextNormalizer.Normalize(TextNormalizer.Normalize(text)));
    }

    [Theory]
    [InlineData("Light Schrödinger Bridge", "LIGHT  SCHRÖDINGER-BRIDGE")]
    [InlineData("Get the Best of Both Worlds: Improving Accuracy", "get the best of both worlds -- improving accuracy")]
    [InlineData("ﬁne-tuning ＬＬＭｓ", "Fine Tuning LLMs")]
    public void TitleKey_SpellingsOfOneTitle_AreEqual(string a, string b)
    {
        Assert.Equal(TextNormalizer.TitleKey(a), TextNormalizer.TitleKey(b));
    }

    [Fact]
    public void TitleKey_DifferentTitles_Differ()
    {
        Assert.NotEqual(TextNormalizer.TitleKey("Sharper Bounds for ell_p Sensitivity Sampling"), TextNormalizer.TitleKey("Sharper Bounds for ell_2 Sensitivity Sampling"));
    }

    [Fact]
    public void Normalize_HundredsOfThousandsOfCombiningMarks_KeepsThirtyAfterTheLetter()
    {
        // Marks of two combining classes in the wrong order: normalization must sort each run.
        var flood = "Zalgo e" + new string('\u0301', 100_000) + new string('\u0334', 100_000) + " end";

        var normal = TextNormalizer.Normalize(flood);

        Assert.Equal(("Zalgo e" + new string('\u0301', TextNormalizer.MaxCombiningMarks) + " end").Normalize(), normal);
    }

    [Fact]
    public void Normalize_RunsOfMarksJoinedByRemovingInvisibleCharacters_AreCappedAsOne()
    {
        var text = "e" + string.Concat(Enumerable.Repeat(new string('\u0301', 20) + "\u200B", 10_000));

        var normal = TextNormalizer.Normalize(text);

        Assert.Equal(("e" + new string('\u0301', TextNormalizer.MaxCombiningMarks)).Normalize(), normal);
    }

    [Fact]
    public void Normalize_MarksOutsideTheBasicPlane_AreCappedToo()
    {
        var mark = char.ConvertFromUtf32(0x1D167); // MUSICAL SYMBOL COMBINING TREMOLO-1, a surrogate pair
        var text = "x" + string.Concat(Enumerable.Repeat(mark, 50_000));

        var normal = TextNormalizer.Normalize(text);

        Assert.Equal("x" + string.Concat(Enumerable.Repeat(mark, TextNormalizer.MaxCombiningMarks)), normal);
    }

    [Theory]
    [InlineData("A\uFFFE Title", "A Title")]
    [InlineData("Cafe\u0301\uFFFF", "Café")]
    [InlineData("\uFFFE", "")]
    public void Normalize_NoncharactersFffeAndFfff_AreRemovedWithoutThrowing(string input, string expected)
    {
        Assert.Equal(expected, TextNormalizer.Normalize(input));
    }
}
