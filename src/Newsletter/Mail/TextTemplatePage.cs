using System.Globalization;
using RazorLight;

namespace Newsletter.Mail;

/// <summary>
/// Base page of plain-text templates (<c>@inherits Newsletter.Mail.TextTemplatePage&lt;TModel&gt;</c>):
/// expressions are written as they are, because HTML encoding would garble a text/plain part ("A &amp;amp; B").
/// Only for templates whose output is never parsed as HTML.
/// </summary>
public abstract class TextTemplatePage<TModel> : TemplatePage<TModel>
{
    public override void Write(object value)
    {
        if (value is TemplateSlot)
        {
            WriteLiteral(value.ToString());
        }
        else if (value is WrappedText wrapped)
        {
            wrapped.WriteTo(Output);
        }
        else if (value is not null)
        {
            Write(value.ToString() ?? "");
        }
    }

    public override void Write(string value) => WriteLiteral(value is null ? null : WithoutMarker(value));

    /// <summary>
    /// Wraps <paramref name="text"/> at word boundaries to <paramref name="width"/> columns; long words (links) are
    /// never broken. Every line starts with <paramref name="indent"/>, the first with <paramref name="lead"/> if given.
    /// </summary>
    public WrappedText Wrap(string text, int width = 72, string indent = "", string? lead = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new(WithoutMarker(text), width, indent, lead);
    }

    // Data never carries a slot's marker: a noncharacter has no business in mail text anyway.
    private static string WithoutMarker(string value) =>
        value.AsSpan().IndexOfAnyInRange('\uFDD0', '\uFDEF') < 0 ? value
            : string.Create(value.Length, value, (span, text) =>
            {
                for (var i = 0; i < text.Length; i++)
                {
                    span[i] = TemplateSlot.IsMarker(text[i]) ? '\uFFFD' : text[i];
                }
            });
}

/// <summary>
/// Text wrapped at word boundaries, written into the page word by word, with no string of the wrapped text (it runs for
/// every abstract of every block rendered).
/// </summary>
public sealed class WrappedText
{
    private readonly string _text;
    private readonly int _width;
    private readonly string _indent;
    private readonly string _lead;

    internal WrappedText(string text, int width, string indent, string? lead = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(indent);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        _text = text;
        _width = width;
        _indent = indent;
        _lead = lead ?? indent;
    }

    public void WriteTo(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var lineLength = 0;
        var start = _lead;
        // Words as slices of the text, not split into strings.
        var rest = _text.AsSpan();
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

            if (lineLength > 0 && lineLength + 1 + word.Length > _width)
            {
                output.Write('\n');
                lineLength = 0;
                start = _indent;
            }

            if (lineLength == 0)
            {
                output.Write(start);
                output.Write(word);
                lineLength = start.Length + word.Length;
            }
            else
            {
                output.Write(' ');
                output.Write(word);
                lineLength += 1 + word.Length;
            }
        }
    }

    public override string ToString()
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        WriteTo(writer);
        return writer.ToString();
    }
}
