using System.Net;
using System.Text.RegularExpressions;

namespace Newsletter.IntegrationTests.Support;

/// <summary>The antiforgery token of a page's form, which a test posts back as a browser would.</summary>
internal static partial class Antiforgery
{
    /// <summary>The hidden field of the first form in <paramref name="html"/>.</summary>
    public static string TokenIn(string html) =>
        Field().Match(html) is { Success: true } match
            ? WebUtility.HtmlDecode(match.Groups[1].Value)
            : throw new InvalidOperationException("no antiforgery field in page");

    /// <summary>The antiforgery field of <paramref name="html"/> as a form would post it: none when the page has none.</summary>
    public static List<KeyValuePair<string, string>> FieldsIn(string html) =>
        Field().Match(html) is { Success: true } match
            ? [new("__RequestVerificationToken", WebUtility.HtmlDecode(match.Groups[1].Value))]
            : [];

    /// <summary>Gets <paramref name="path"/> with <paramref name="client"/> (which keeps the matching cookie) and reads its token.</summary>
    public static async Task<string> TokenAsync(HttpClient client, string path) =>
        TokenIn(await client.GetStringAsync(path, Ct));

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Field();
}
