using Newsletter.Inbox;
using Newsletter.Papers;

namespace Newsletter.Tests.Inbox;

public sealed class HtmlTextTests
{
    [Fact]
    public void ToLines_BlocksAndBreaks_BecomeParagraphsAndLines()
    {
        var html = "<p>a<p>b<div>c</div><ul><li>one<li>two</ul>d<br>e</br>f<hr>g<table><tr><td>h<td>i<tr><td>j</table>";

        Assert.Equal(["a", "b", "c", "one", "two", "d\ne\nf", "g", "h", "i", "j"], Paragraphs(html));
    }

    [Fact]
    public void ToLines_ScriptsStylesAndHiddenElements_GiveNoText()
    {
        var html = "<html><head><title>T</title><style>p { color: red }</style></head><body><script>if (a<b) x();</script>"
            + "<noscript>n</noscript><span style='DISPLAY : none'>hidden<b>x</b></span>shown<div hidden><p>h</p></div>"
            + "<select><option>o</select><svg><text>s</text></svg><textarea>t<b></textarea>after</body></html>";

        Assert.Equal(["shownafter"], Paragraphs(html));
    }

    [Fact]
    public void ToLines_HiddenElementClosedByItsParent_ShowsWhatFollows()
    {
        Assert.Equal(["visible"], Paragraphs("<div><span hidden>x</div>visible"));
    }

    [Fact]
    public void ToLines_EntitiesAndAnchors_AreDecodedOnceAndLinksKept()
    {
        var lines = HtmlText.ToLines("<h3><a href=\"https://arxiv.org/abs/2312.12345v1?a=1&amp;b=2\">A &amp;lt; B</a></h3><a href='mailto:x'>m</a>");

        var title = lines.First(line => line.Text.Length > 0);
        Assert.Equal("A &lt; B", title.Text);
        Assert.Equal(["https://arxiv.org/abs/2312.12345v1?a=1&b=2"], title.Hrefs);
        Assert.Empty(lines.Single(line => line.Text == "m").Hrefs);
    }

    [Fact]
    public void ToLines_NestedDeeperThanTheStackHolds_StillGivesTheText()
    {
        var html = string.Concat(Enumerable.Repeat("<div><span>", HtmlText.MaxOpenElements)) + "<p>deep</p>" + string.Concat(Enumerable.Repeat("</span></div>", HtmlText.MaxOpenElements)) + "<p>after</p>";

        Assert.Equal(["deep", "after"], Paragraphs(html));
    }

    private static List<string> Paragraphs(string html)
    {
        var paragraphs = new List<string>();
        var current = new List<string>();
        foreach (var line in HtmlText.ToLines(html).Append(TextLine.Plain(string.Empty)))
        {
            var text = TextNormalizer.Normalize(line.Text);
            if (text.Length > 0)
            {
                current.Add(text);
            }
            else if (current.Count > 0)
            {
                paragraphs.Add(string.Join('\n', current));
                current.Clear();
            }
        }

        return paragraphs;
    }
}
