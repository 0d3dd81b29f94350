using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AngleSharp.Html.Parser;

namespace Newsletter.Mail;

/// <summary>
/// Inlines CSS into the source of an HTML Razor template, once, before it is compiled.
/// </summary>
/// <remarks>
/// Mail clients ignore or strip &lt;style&gt;, so styles must sit in style attributes. Running PreMailer over every
/// rendered message would parse and rewrite ~100 KB of HTML per recipient (milliseconds each, against ~20 µs for the
/// render itself). The elements and classes of a template do not depend on the recipient, so we inline into the
/// template source instead: Razor code is first masked with placeholders (so the HTML parser neither moves nor
/// re-escapes it), PreMailer inlines the CSS, then the code is put back. Constraints for template authors: Razor code
/// must not sit directly between table/tr/td boundaries (the HTML parser would move it; keep it inside a td or a block
/// element), and markup written inside <c>@{ }</c> blocks is not styled. A template that breaks them fails at start-up.
/// </remarks>
internal static partial class TemplateCssInliner
{
    private const char MaskOpen = '\uE000';
    private const char MaskClose = '\uE001';

    public static string Inline(string templateSource, string css, out IReadOnlyList<string> warnings)
    {
        ArgumentNullException.ThrowIfNull(templateSource);
        ArgumentNullException.ThrowIfNull(css);
        // Directives before the first tag (@model, @inherits, @{ Layout = ... }) stay out of the parser's way.
        var prefix = templateSource[..LeadingCodeEnd(templateSource)];
        var codes = new List<string>();
        var masked = Mask(templateSource[prefix.Length..], codes);

        var isDocument = HtmlElementStart().IsMatch(masked);
        var html = isDocument ? masked : "<!DOCTYPE html><html><head></head><body>" + masked + "</body></html>";
        var document = new HtmlParser().ParseDocument(html);
        using var premailer = new PreMailer.Net.PreMailer(document, null);
        var result = premailer.MoveCssInline(css: css, stripIdAndClassAttributes: true);
        warnings = result.Warnings;

        var inlined = isDocument ? result.Html : document.Body!.InnerHtml;
        return prefix + Unmask(inlined, codes);
    }

    /// <summary>Replaces Razor comments, directives, code blocks, expressions and control-flow headers with placeholders.</summary>
    private static string Mask(string source, List<string> codes)
    {
        var output = new StringBuilder(source.Length);
        var i = 0;
        while (i < source.Length)
        {
            var c = source[i];
            if (c == '}' && IsLineOfClosingBrace(source, i, out var closeEnd))
            {
                Add(i, closeEnd);
                i = closeEnd;
                continue;
            }

            if (c != '@' || i + 1 >= source.Length)
            {
                output.Append(c);
                i++;
                continue;
            }

            var next = source[i + 1];
            if (next == '@' || (i > 0 && char.IsLetterOrDigit(source[i - 1])))
            {
                // "@@" is an escaped at sign and "name@example.org" is not code.
                output.Append(source, i, next == '@' ? 2 : 1);
                i += next == '@' ? 2 : 1;
                continue;
            }

            var end = next switch
            {
                '*' => IndexAfter(source, "*@", i + 2),
                '{' => Balanced(source, i + 1),
                '(' => Balanced(source, i + 1),
                ':' => LineEnd(source, i),
                _ when char.IsLetter(next) || next == '_' => Expression(source, i + 1),
                _ => -1,
            };
            if (end < 0)
            {
                output.Append(c);
                i++;
                continue;
            }

            Add(i, end);
            i = end;
        }

        return output.ToString();

        void Add(int start, int end)
        {
            output.Append(MaskOpen).Append(codes.Count.ToString(CultureInfo.InvariantCulture)).Append(MaskClose);
            codes.Add(source[start..end]);
        }
    }

    private static int LeadingCodeEnd(string source)
    {
        var end = 0;
        while (true)
        {
            var i = SkipWhitespace(source, end);
            if (i + 1 >= source.Length || source[i] != '@')
            {
                return end;
            }

            end = source[i + 1] switch
            {
                '*' => IndexAfter(source, "*@", i + 2) is var after and >= 0 ? after : source.Length,
                '{' or '(' => Balanced(source, i + 1),
                _ => LineEnd(source, i),
            };
            end = LineEnd(source, end) is var lineEnd && source.AsSpan(end, lineEnd - end).IsWhiteSpace() && lineEnd < source.Length
                ? lineEnd + 1
                : end;
        }
    }

    private static int Expression(string source, int start)
    {
        var i = start;
        while (i < source.Length && (char.IsLetterOrDigit(source[i]) || source[i] == '_'))
        {
            i++;
        }

        var word = source[start..i];
        switch (word)
        {
            case "model" or "inherits" or "using" or "layout" or "namespace" or "implements":
                return LineEnd(source, i);
            case "if" or "foreach" or "for" or "while" or "switch" or "lock":
                // Keyword, its condition and the opening brace (on this line or the next).
                i = SkipWhitespace(source, i);
                if (i < source.Length && source[i] == '(')
                {
                    i = Balanced(source, i);
                }

                var brace = SkipWhitespace(source, i);
                return brace < source.Length && source[brace] == '{' ? brace + 1 : i;
            default:
                break;
        }

        while (i < source.Length)
        {
            if (source[i] is '(' or '[')
            {
                i = Balanced(source, i);
            }
            else if (source[i] == '.' && i + 1 < source.Length && (char.IsLetter(source[i + 1]) || source[i + 1] == '_'))
            {
                i++;
                while (i < source.Length && (char.IsLetterOrDigit(source[i]) || source[i] == '_'))
                {
                    i++;
                }
            }
            else
            {
                break;
            }
        }

        return i;
    }

    /// <summary>A "}" that closes a Razor block on its own line, optionally followed by "else {" or "else if (...) {".</summary>
    private static bool IsLineOfClosingBrace(string source, int index, out int end)
    {
        end = LineEnd(source, index);
        var lineStart = source.LastIndexOf('\n', Math.Max(index - 1, 0)) + 1;
        var line = source[lineStart..end];
        return ClosingBraceLine().IsMatch(line);
    }

    private static int Balanced(string source, int open)
    {
        var (openChar, closeChar) = source[open] switch { '(' => ('(', ')'), '[' => ('[', ']'), _ => ('{', '}') };
        var depth = 0;
        for (var i = open; i < source.Length; i++)
        {
            var c = source[i];
            if (c == '"' || c == '\'')
            {
                i = SkipQuoted(source, i);
            }
            else if (c == openChar)
            {
                depth++;
            }
            else if (c == closeChar && --depth == 0)
            {
                return i + 1;
            }
        }

        throw new InvalidOperationException($"Template: unbalanced '{openChar}' at offset {open}.");
    }

    private static int SkipQuoted(string source, int quote)
    {
        for (var i = quote + 1; i < source.Length; i++)
        {
            if (source[i] == '\\')
            {
                i++;
            }
            else if (source[i] == source[quote] || source[i] == '\n')
            {
                return i;
            }
        }

        return source.Length;
    }

    private static int IndexAfter(string source, string value, int from)
    {
        var at = source.IndexOf(value, from, StringComparison.Ordinal);
        return at < 0 ? -1 : at + value.Length;
    }

    private static int LineEnd(string source, int from)
    {
        var at = source.IndexOf('\n', from);
        return at < 0 ? source.Length : at;
    }

    private static int SkipWhitespace(string source, int i)
    {
        while (i < source.Length && char.IsWhiteSpace(source[i]))
        {
            i++;
        }

        return i;
    }

    private static string Unmask(string html, List<string> codes)
    {
        var expected = 0;
        var restored = Placeholder().Replace(html, match =>
        {
            var index = int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
            if (index != expected++)
            {
                throw new InvalidOperationException(
                    $"Template: the HTML parser moved Razor code '{codes[index]}'; keep code inside a td or block element, not between table rows.");
            }

            return codes[index];
        });
        if (expected != codes.Count)
        {
            throw new InvalidOperationException(
                $"Template: the HTML parser dropped Razor code '{codes[expected]}'; check the markup around it.");
        }

        return restored;
    }

    [GeneratedRegex(@"<html[\s>]", RegexOptions.IgnoreCase)]
    private static partial Regex HtmlElementStart();

    [GeneratedRegex(@"^\s*\}\s*(else(\s+if\s*\(.*\))?\s*\{?)?\s*$")]
    private static partial Regex ClosingBraceLine();

    [GeneratedRegex("\uE000(\\d+)\uE001")]
    private static partial Regex Placeholder();
}
