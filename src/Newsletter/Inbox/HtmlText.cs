using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace Newsletter.Inbox;

/// <summary>One line of message text; an empty line separates paragraphs. Hrefs are the links of the line's anchors.</summary>
internal sealed record TextLine(string Text, IReadOnlyList<string> Hrefs)
{
    public static readonly IReadOnlyList<string> NoHrefs = [];

    public static TextLine Plain(string text) => new(text, NoHrefs);
}

/// <summary>Turns an HTML body into lines with AngleSharp: block elements become paragraphs, br a line break.</summary>
internal static class HtmlText
{
    private const int MaxNodes = 200_000;

    private static readonly HashSet<string> Skipped = new(StringComparer.Ordinal)
    {
        "head", "script", "style", "title", "template", "noscript", "svg", "math", "iframe", "object", "select", "textarea",
    };

    private static readonly HashSet<string> Blocks = new(StringComparer.Ordinal)
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "li", "main",
        "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    };

    public static List<TextLine> ToLines(string html) => ToLines(html, ParseBudget.Unlimited);

    public static List<TextLine> ToLines(string html, ParseBudget budget)
    {
        var parser = new HtmlParser(new HtmlParserOptions { IsScripting = false });
        using var document = parser.ParseDocument(html);
        var writer = new LineWriter();
        var stack = new Stack<(INode Node, bool Exit)>();
        stack.Push((document.Body ?? (INode)document, false));
        var visited = 0;
        while (stack.Count > 0 && visited++ < MaxNodes)
        {
            budget.Check();
            var (node, exit) = stack.Pop();
            switch (node)
            {
                case IElement element when exit:
                    if (Blocks.Contains(element.LocalName))
                    {
                        writer.ParagraphBreak();
                    }

                    break;
                case IElement element:
                    var name = element.LocalName;
                    if (Skipped.Contains(name) || IsHidden(element))
                    {
                        break;
                    }

                    if (name == "br")
                    {
                        writer.LineBreak();
                        break;
                    }

                    if (name == "hr" || Blocks.Contains(name))
                    {
                        writer.ParagraphBreak();
                    }

                    if (name == "a" && element.GetAttribute("href") is { } href)
                    {
                        writer.AddHref(href.Trim());
                    }

                    stack.Push((element, true));
                    for (var child = element.LastChild; child is not null; child = child.PreviousSibling)
                    {
                        stack.Push((child, false));
                    }

                    break;
                case IText text:
                    writer.Append(text.Data);
                    break;
                case IDocument:
                    for (var child = node.LastChild; child is not null; child = child.PreviousSibling)
                    {
                        stack.Push((child, false));
                    }

                    break;
            }
        }

        writer.LineBreak();
        return writer.Lines;
    }

    private static bool IsHidden(IElement element)
    {
        if (element.HasAttribute("hidden"))
        {
            return true;
        }

        var style = element.GetAttribute("style");
        return style is not null
            && style.Replace(" ", string.Empty, StringComparison.Ordinal).Contains("display:none", StringComparison.OrdinalIgnoreCase);
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
