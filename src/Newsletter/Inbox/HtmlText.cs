using System.Text;
using MimeKit.Text;

namespace Newsletter.Inbox;

/// <summary>One line of message text; an empty line separates paragraphs. Hrefs are the links of the line's anchors.</summary>
internal sealed record TextLine(string Text, IReadOnlyList<string> Hrefs)
{
    public static readonly IReadOnlyList<string> NoHrefs = [];

    public static TextLine Plain(string text) => new(text, NoHrefs);
}

/// <summary>
/// Turns an HTML body into lines: block elements become paragraphs, br a line break; scripts, styles and hidden
/// elements give no text. It reads MimeKit's tokenizer and keeps a bounded stack of open elements rather than
/// building a DOM: the HTML standard's tree builder (AngleSharp's) is quadratic in nesting depth and in unclosed
/// formatting elements, and 100,000 nested divs took minutes.
/// </summary>
internal static class HtmlText
{
    // Elements nested deeper give text but no structure. No mail nests this deep; each end tag searches the stack.
    internal const int MaxOpenElements = 256;

    // Their content is text the tokenizer hands over whole, up to the matching end tag; none of it is shown.
    private static readonly HashSet<string> RawText = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes", "plaintext",
    };

    // Elements whose content is markup that is not shown.
    private static readonly HashSet<string> Skipped = new(StringComparer.OrdinalIgnoreCase)
    {
        "template", "noscript", "svg", "math", "object", "select",
    };

    private static readonly HashSet<string> Blocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "li", "main",
        "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    };

    private static readonly HashSet<string> Void = new(StringComparer.OrdinalIgnoreCase)
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
    };

    // Tag names the reader tells apart, numbered from 1; any other name is 0 and compared as a string.
    private static readonly Dictionary<string, int> Ids = RawText.Concat(Skipped).Concat(Blocks).Concat(Void)
        .Concat(["a", "html", "button", "datalist", "option"])
        .Distinct(StringComparer.OrdinalIgnoreCase)
        .Select((name, i) => (name, id: i + 1))
        .ToDictionary(e => e.name, e => e.id, StringComparer.OrdinalIgnoreCase);

    private static readonly bool[] IsBlock = Flags(Blocks);

    // What a start tag closes when it is still open, not looking past a boundary: the end tags HTML lets a writer
    // leave out (a <p> before the next block, <li> before <li>, <td> before <td>).
    private static readonly ImpliedEnd[]?[] ImpliedEnds = BuildImpliedEnds();

    public static List<TextLine> ToLines(string html) => ToLines(html, ParseBudget.Unlimited);

    public static List<TextLine> ToLines(string html, ParseBudget budget)
    {
        using var reader = new StringReader(html);
        var tokenizer = new HtmlTokenizer(reader);
        var state = new Reader();
        while (tokenizer.ReadNextToken(out var token))
        {
            budget.Check();
            switch (token)
            {
                case HtmlDataToken { Kind: HtmlTokenKind.Data } data when state.RawTextEnd is null && state.HiddenFrom < 0:
                    state.Writer.Append(data.Data);
                    break;
                case HtmlTagToken { IsEndTag: true } end:
                    state.End(end.Name);
                    break;
                case HtmlTagToken start:
                    state.Start(start);
                    break;
            }
        }

        state.Writer.LineBreak();
        return state.Writer.Lines;
    }

    private static int IdOf(string name) => Ids.GetValueOrDefault(name);

    private static bool[] Flags(IEnumerable<string> names)
    {
        var flags = new bool[Ids.Count + 1];
        foreach (var name in names)
        {
            flags[IdOf(name)] = true;
        }

        flags[0] = false;
        return flags;
    }

    private static bool IsHidden(HtmlTagToken tag)
    {
        foreach (var attribute in tag.Attributes)
        {
            if (attribute.Name.Equals("hidden", StringComparison.OrdinalIgnoreCase)
                || (attribute.Name.Equals("style", StringComparison.OrdinalIgnoreCase) && attribute.Value is { } style
                    && style.Replace(" ", string.Empty, StringComparison.Ordinal).Contains("display:none", StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    private static string? Href(HtmlTagToken tag)
    {
        foreach (var attribute in tag.Attributes)
        {
            if (attribute.Name.Equals("href", StringComparison.OrdinalIgnoreCase))
            {
                return attribute.Value;
            }
        }

        return null;
    }

    private static ImpliedEnd[]?[] BuildImpliedEnds()
    {
        string[] scope = ["table", "td", "th", "caption", "html", "template", "object", "button"];
        var paragraph = new ImpliedEnd(Flags(["p"]), Flags(scope));
        var ends = new ImpliedEnd[]?[Ids.Count + 1];
        // A block start closes an open paragraph; table parts are inside a table, which a paragraph never reaches into.
        foreach (var block in Blocks.Where(b => b is not ("body" or "caption" or "td" or "th" or "tr" or "tbody" or "thead" or "tfoot")))
        {
            ends[IdOf(block)] = [paragraph];
        }

        ends[IdOf("li")] = [new ImpliedEnd(Flags(["li"]), Flags(["ul", "ol", .. scope])), paragraph];
        ends[IdOf("dt")] = ends[IdOf("dd")] = [new ImpliedEnd(Flags(["dt", "dd"]), Flags(["dl", .. scope])), paragraph];
        ends[IdOf("tr")] = [new ImpliedEnd(Flags(["tr", "td", "th"]), Flags(["table", "tbody", "thead", "tfoot", "template"]))];
        ends[IdOf("td")] = ends[IdOf("th")] = [new ImpliedEnd(Flags(["td", "th"]), Flags(["tr", "table", "template"]))];
        ends[IdOf("tbody")] = ends[IdOf("thead")] = ends[IdOf("tfoot")] =
            [new ImpliedEnd(Flags(["tbody", "thead", "tfoot", "tr", "td", "th"]), Flags(["table", "template"]))];
        ends[IdOf("option")] = [new ImpliedEnd(Flags(["option"]), Flags(["select", "datalist", .. scope]))];
        return ends;
    }

    private sealed record ImpliedEnd(bool[] Closes, bool[] Boundary);

    private readonly record struct OpenElement(int Id, string Name, bool Hidden);

    /// <summary>Where the reading stands: open elements, the hidden region and the raw text being skipped.</summary>
    private sealed class Reader
    {
        private readonly List<OpenElement> open = [];

        public LineWriter Writer { get; } = new();

        /// <summary>The index in the stack of the outermost element whose content is not shown; -1 when all is shown.</summary>
        public int HiddenFrom { get; private set; } = -1;

        /// <summary>The end tag that ends the raw text being skipped (a script, a style), or null.</summary>
        public string? RawTextEnd { get; private set; }

        public void Start(HtmlTagToken tag)
        {
            var name = tag.Name;
            if (RawTextEnd is not null)
            {
                return;
            }

            if (RawText.Contains(name))
            {
                RawTextEnd = name;
                return;
            }

            if (Void.Contains(name))
            {
                if (HiddenFrom < 0 && name.Equals("br", StringComparison.OrdinalIgnoreCase))
                {
                    Writer.LineBreak();
                }
                else if (HiddenFrom < 0 && name.Equals("hr", StringComparison.OrdinalIgnoreCase))
                {
                    Writer.ParagraphBreak();
                }

                return;
            }

            var id = IdOf(name);
            foreach (var implied in ImpliedEnds[id] ?? [])
            {
                var index = Find(implied.Closes, 0, null, implied.Boundary);
                if (index >= 0)
                {
                    PopTo(index);
                    break;
                }
            }

            var hidden = HiddenFrom < 0 && (Skipped.Contains(name) || IsHidden(tag));
            if (open.Count < MaxOpenElements)
            {
                open.Add(new OpenElement(id, name, hidden));
                if (hidden)
                {
                    HiddenFrom = open.Count - 1;
                }
            }

            if (HiddenFrom >= 0)
            {
                return;
            }

            if (IsBlock[id])
            {
                Writer.ParagraphBreak();
            }

            if (name.Equals("a", StringComparison.OrdinalIgnoreCase) && Href(tag) is { } href)
            {
                Writer.AddHref(href.Trim());
            }
        }

        public void End(string name)
        {
            if (RawTextEnd is not null)
            {
                if (name.Equals(RawTextEnd, StringComparison.OrdinalIgnoreCase))
                {
                    RawTextEnd = null;
                }

                return;
            }

            if (name.Equals("br", StringComparison.OrdinalIgnoreCase))
            {
                // </br> is read as <br>.
                if (HiddenFrom < 0)
                {
                    Writer.LineBreak();
                }

                return;
            }

            var id = IdOf(name);
            var index = Find(null, id, name, null);
            if (index >= 0)
            {
                PopTo(index);
            }
            else if (HiddenFrom < 0 && name.Equals("p", StringComparison.OrdinalIgnoreCase))
            {
                // A </p> with no <p> is read as an empty paragraph.
                Writer.ParagraphBreak();
            }
        }

        // The innermost open element wanted (one of the ids flagged, or the one named), not looking past a boundary.
        private int Find(bool[]? ids, int id, string? name, bool[]? boundary)
        {
            for (var i = open.Count - 1; i >= 0; i--)
            {
                var element = open[i];
                if (ids is not null ? ids[element.Id] : element.Id == id && (id != 0 || element.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
                {
                    return i;
                }

                if (boundary is not null && boundary[element.Id])
                {
                    return -1;
                }
            }

            return -1;
        }

        // Closes the element at index and everything opened inside it; a block that closes ends a paragraph.
        private void PopTo(int index)
        {
            var block = false;
            for (var i = index; i < open.Count; i++)
            {
                block |= (HiddenFrom < 0 || i < HiddenFrom) && IsBlock[open[i].Id];
            }

            open.RemoveRange(index, open.Count - index);
            if (HiddenFrom >= index)
            {
                HiddenFrom = -1;
            }

            if (block)
            {
                Writer.ParagraphBreak();
            }
        }
    }

    private sealed class LineWriter
    {
        private readonly StringBuilder current = new();
        private List<string>? hrefs;

        public List<TextLine> Lines { get; } = [];

        public void Append(string text)
        {
            foreach (var c in text)
            {
                current.Append(c is '\r' or '\n' ? ' ' : c);
            }
        }

        public void AddHref(string href)
        {
            if (href.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || href.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                (hrefs ??= []).Add(href);
            }
        }

        public void LineBreak()
        {
            Lines.Add(new TextLine(current.ToString(), (IReadOnlyList<string>?)hrefs ?? TextLine.NoHrefs));
            current.Clear();
            hrefs = null;
        }

        public void ParagraphBreak()
        {
            if (current.Length > 0 || hrefs is not null)
            {
                LineBreak();
            }

            if (Lines.Count > 0 && Lines[^1].Text.Length > 0)
            {
                Lines.Add(TextLine.Plain(string.Empty));
            }
        }
    }
}
