using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.Tests.Subscribers;

public class WordTokenizerTests
{
    [Theory]
    [InlineData("models", "model")]
    [InlineData("model", "model")]
    [InlineData("queries", "query")]
    [InlineData("classes", "class")]
    [InlineData("class", "class")]
    [InlineData("losses", "loss")]
    [InlineData("analyses", "analysis")]
    [InlineData("analysis", "analysis")]
    [InlineData("hypotheses", "hypothesis")]
    [InlineData("approaches", "approach")]
    [InlineData("boxes", "box")]
    [InlineData("images", "image")]
    [InlineData("cases", "case")]
    [InlineData("caches", "cache")]
    [InlineData("biases", "bias")]
    [InlineData("bias", "bias")]
    [InlineData("gpus", "gpu")]
    [InlineData("llms", "llm")]
    [InlineData("corpus", "corpus")]
    [InlineData("status", "status")]
    [InlineData("various", "various")]
    [InlineData("gas", "gas")]
    [InlineData("its", "its")]
    [InlineData("news", "news")]
    [InlineData("matrices", "matrix")]
    public void Fold_EnglishPlural_GivesSingular(string word, string expected)
    {
        Assert.Equal(expected, WordTokenizer.Fold(word));
    }

    [Fact]
    public void Tokenize_Punctuation_SplitsWordsAndKeepsOriginalSpans()
    {
        const string text = "Low-Rank adapters_for GPT-4/3D: it's Café's résumé!";

        var tokens = WordTokenizer.Tokenize(text);

        Assert.Equal(["low", "rank", "adapter", "for", "gpt", "4", "3d", "its", "cafe", "resume"], tokens.Select(t => t.Folded));
        Assert.All(tokens, t => Assert.True(char.IsLetterOrDigit(text[t.Start]) && char.IsLetterOrDigit(text[t.End - 1])));
        Assert.Equal("Café's", text.Substring(tokens[8].Start, tokens[8].Length));
    }

    [Fact]
    public void Tokenize_DecomposedAccents_FoldLikeComposedOnes()
    {
        var tokens = WordTokenizer.Tokenize("Nai\u0308ve nai\u0308ve NAÏVE");

        Assert.All(tokens, t => Assert.Equal("naive", t.Folded));
        Assert.Equal(3, tokens.Count);
    }
    [Fact]
    public void Tokenize_LettersOutsideTheBasicMultilingualPlane_AreWordsLikeAnyOther()
    {
        // Mathematical bold BERT (copied from a formatted title) folds to bert as fullwidth ＢＥＲＴ does; 𠮷 (CJK Extension B)
        // is a letter of the word 𠮷野家, not a gap in it; an emoji is still no word.
        const string text = "\U0001D401\U0001D404\U0001D411\U0001D413 and \U00020BB7\u91CE\u5BB6 \U0001F680rocket";

        var tokens = WordTokenizer.Tokenize(text);

        Assert.Equal(["bert", "and", "\U00020BB7\u91CE\u5BB6", "rocket"], tokens.Select(t => t.Folded));
        Assert.Equal("\U00020BB7\u91CE\u5BB6", text.Substring(tokens[2].Start, tokens[2].Length));
        Assert.Equal("\U0001D401\U0001D404\U0001D411\U0001D413", text.Substring(tokens[0].Start, tokens[0].Length));
    }
}
