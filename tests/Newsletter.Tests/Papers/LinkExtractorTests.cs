using Newsletter.Papers;

namespace Newsletter.Tests.Papers;

public sealed class LinkExtractorTests
{
    [Theory]
    [InlineData("Code is released at https://github.com/innerlee/GCR.", "https://github.com/innerlee/GCR")]
    [InlineData("available at url{http://github.com/czg1225/SlimSAM}.", "http://github.com/czg1225/SlimSAM")]
    [InlineData("(code: https://github.com/Tabrisrei/ISLES22_Ensemble) that", "https://github.com/Tabrisrei/ISLES22_Ensemble")]
    [InlineData("see https://en.wikipedia.org/wiki/Transformer_(deep_learning_architecture).", "https://en.wikipedia.org/wiki/Transformer_(deep_learning_architecture)")]
    [InlineData("(see https://en.wikipedia.org/wiki/Mamba_(model)), then", "https://en.wikipedia.org/wiki/Mamba_(model)")]
    [InlineData("at https://github.com/tenvence/afa/.", "https://github.com/tenvence/afa/")]
    [InlineData("\"https://example.org/a?b=1&c=2\",", "https://example.org/a?b=1&c=2")]
    [InlineData("[link](https://example.org/x)", "https://example.org/x")]
    [InlineData("home https://example.org/~user/page;", "https://example.org/~user/page")]
    public void Extract_TrailingPunctuationAndUnbalancedBrackets_AreTrimmed(string text, string expected)
    {
        Assert.Equal([expected], LinkExtractor.Extract(text));
    }

    [Theory]
    [InlineData("https://github.com/a/b\n-- \nUnsubscribe: https://evil.example/u")]
    [InlineData("https://github.com/a/b\r\nUnsubscribe: https://evil.example/u")]
    [InlineData("https://github.com/a/b\tc")]
    [InlineData("https://github.com/a/b c")]
    [InlineData("https://github.com/a/\u0000b")]
    [InlineData("https://github.com/a/\u0085b")]
    [InlineData("https://github.com/a/\u2028b")]
    [InlineData("https://github.com/e/\u202Egpj.exe")]
    [InlineData("https://github.com/e/\u200Bb")]
    public void AddLink_AnHrefWithLineBreaksControlsOrBidiCharacters_Refused(string href)
    {
        // An href from the listing's HTML reached the text part as it was: a line break wrote fake lines under "Code:",
        // a right-to-left override showed ".../exe.jpg" for ".../gpj.exe".
        var links = new List<string>();

        Assert.False(LinkExtractor.AddLink(links, href));
        Assert.Empty(links);
    }

    [Theory]
    [InlineData(")", "https://a.example/x")]
    [InlineData("]", "https://a.example/x")]
    [InlineData("}.", "https://a.example/x")]
    public void Trim_LinkEndingInThreeHundredThousandClosingBrackets_TrimsThemAll(string closing, string expected)
    {
        var link = "https://a.example/x" + string.Concat(Enumerable.Repeat(closing, 300_000));

        Assert.Equal(expected, LinkExtractor.Trim(link));
    }

    [Theory]
    [InlineData("https://a.example/f(x)(y)))", "https://a.example/f(x)(y)")]
    [InlineData("https://a.example/(a[b]c)]).", "https://a.example/(a[b]c)")]
    [InlineData("https://a.example/a)(b", "https://a.example/a)(b")]
    public void Trim_BalancedBracketsBeforeUnbalancedOnes_KeepsTheBalanced(string link, string expected)
    {
        Assert.Equal(expected, LinkExtractor.Trim(link));
    }

    [Fact]
    public void Extract_RepeatedAndInvalidLinks_DeDuplicatesKeepingOrder()
    {
        var links = LinkExtractor.Extract("https://b.example/1 and https://a.example/2, again https://b.example/1. ftp://x.example/ https://");

        Assert.Equal(["https://b.example/1", "https://a.example/2"], links);
    }

    [Theory]
    [InlineData("https://arxiv.org/abs/2407.08296", "2407.08296")]
    [InlineData("https://arxiv.org/pdf/2407.08296v2", "2407.08296")]
    [InlineData("https://arxiv.org/pdf/2407.08296v2.pdf", "2407.08296")]
    [InlineData("see arXiv:2407.08296v1 for details", "2407.08296")]
    [InlineData("ARXIV: 1706.03762", "1706.03762")]
    [InlineData("https://huggingface.co/papers/2502.12345", "2502.12345")]
    [InlineData("http://arxiv.org/abs/hep-th/9901001v3", "hep-th/9901001")]
    [InlineData("https://github.com/x/y 2407.08296", null)]
    [InlineData("arxiv.org/abs/2407.082961", null)]
    public void FindArxivId_LinksAndText_GiveTheIdWithoutVersion(string text, string? expected)
    {
        Assert.Equal(expected, LinkExtractor.FindArxivId(text));
    }
}
