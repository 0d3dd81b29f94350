using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Html;

namespace Newsletter.Web;

/// <summary>
/// The manage page's time-zone suggestions: an <c>&lt;option&gt;</c> for every zone the system knows, written once per
/// process instead of through a tag helper per option on every view (the list is read from the system's tz data,
/// which a running process never reloads).
/// </summary>
public static class TimeZoneSuggestions
{
    public static IHtmlContent Options { get; } = Render();

    private static HtmlString Render()
    {
        var html = new StringBuilder();
        foreach (var zone in TimeZoneInfo.GetSystemTimeZones())
        {
            html.Append("<option value=\"").Append(HtmlEncoder.Default.Encode(zone.Id)).Append("\"></option>\n");
        }
        return new HtmlString(html.ToString());
    }
}
