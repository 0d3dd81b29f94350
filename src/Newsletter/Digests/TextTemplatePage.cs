using System.Text;
using RazorLight;

namespace Newsletter.Digests;

/// <summary>
/// Base page of plain-text templates (<c>@inherits Newsletter.Digests.TextTemplatePage&lt;TModel&gt;</c>):
/// expressions are written as they are, because HTML encoding would garble a text/plain part ("A &amp;amp; B").
/// Only for templates whose output is never parsed as HTML.
/// </summary>
public abstract class TextTemplatePage<TModel> : TemplatePage<TModel>
{
    public override void Write(object value)
    {
        if (value is PaperBlocks)
        {
            WriteLiteral(value.ToString());
        }
        else if (value is not null)
        {
            Write(value.ToString() ?? "");
        }
    }

    // Data never carries the papers' marker: a noncharacter has no business in mail text anyway.
    public override void Write(string value) =>
        WriteLiteral(value?.Contains(PaperBlocks.Marker, StringComparison.Ordinal) == true ? value.Replace(PaperBlocks.Marker, '\uFFFD') : value);

    /// <summary>Wraps <paramref name="text"/> at word boundaries to <paramref name="width"/> columns; long words (links) are never broken.</summary>
    public string Wrap(string text, int width = 72, string indent = "")
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(indent);
        var result = new StringBuilder(text.Length + (text.Length / width * (indent.Length + 2)));
        var lineLength = 0;
        // Words as slices of the text, not split into strings: this runs for every abstract of every digest.
        var rest = text.AsSpan();
        while (true)
        {
            rest = rest.TrimStart();
            if (rest.IsEmpty)
            {
                break;
            }
            var end = 0;
            while (end < rest.Length && !char.IsWhiteSpace(rest[end]))
            {
                end++;
            }
            var word = rest[..end];
            rest = rest[end..];

            if (lineLength > 0 && lineLength + 1 + word.Length > width)
            {
                result.Append('\n');
                lineLength = 0;
            }

            if (lineLength == 0)
            {
                result.Append(indent).Append(word);
                lineLength = indent.Length + word.Length;
            }
            else
            {
                result.Append(' ').Append(word);
                lineLength += 1 + word.Length;
            }
        }

        return result.ToString();
    }
}
