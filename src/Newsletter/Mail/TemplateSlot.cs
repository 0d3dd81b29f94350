using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Html;

namespace Newsletter.Mail;

/// <summary>
/// A place in a frame template that the renderer fills afterwards with blocks it encoded itself: the template writes a
/// marker character there. Markers are Unicode noncharacters (U+FDD0 to U+FDEF), which cannot come from data: the HTML
/// encoder escapes every non-ASCII character and text pages replace them (<see cref="TextTemplatePage{TModel}"/>).
/// </summary>
public abstract class TemplateSlot(char marker) : IHtmlContent
{
    public char Marker { get; } = IsMarker(marker) ? marker : throw new ArgumentOutOfRangeException(nameof(marker), "A slot marker is a noncharacter U+FDD0 to U+FDEF.");

    public static bool IsMarker(char c) => c is >= '\uFDD0' and <= '\uFDEF';

    public void WriteTo(TextWriter writer, HtmlEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Marker);
    }

    public override string ToString() => Marker.ToString();
}
