using System.Text.RegularExpressions;
using MimeKit;

namespace Newsletter.IntegrationTests.Support;

/// <summary>
/// Reads what a recipient sees in a digest's plain-text part: the titles of the keyword matches, in order, and of the
/// "Also for you" suggestions after them.
/// </summary>
internal static partial class DigestReader
{
    private const string SuggestionsHeading = "ALSO FOR YOU";
    private const string TitleLabel = "Title: ";

    public static IReadOnlyList<string> Titles(MimeMessage digest) => TitlesIn(Text(digest).Split(SuggestionsHeading)[0]);

    public static IReadOnlyList<string> Suggestions(MimeMessage digest) =>
        Text(digest).Split(SuggestionsHeading) is { Length: > 1 } parts ? TitlesIn(parts[1]) : [];

    private static string Text(MimeMessage digest) =>
        (digest.GetTextBody(MimeKit.Text.TextFormat.Plain) ?? throw new InvalidOperationException("The digest has no text part."))
            .Replace("\r\n", "\n", StringComparison.Ordinal);

    private static List<string> TitlesIn(string text)
    {
        var blocks = text.Split("\n" + new string('-', 70) + "\n");
        var titles = new List<string>();
        foreach (var block in blocks.Skip(1))
        {
            var lines = block.Split('\n');
            var urlLine = Array.FindIndex(lines, l => l.StartsWith("http", StringComparison.Ordinal));
            if (urlLine > 0)
            {
                var title = Spaces().Replace(string.Join(' ', lines[..urlLine]), " ").Trim();
                titles.Add(title.StartsWith(TitleLabel, StringComparison.Ordinal) ? title[TitleLabel.Length..] : title);
            }
        }
        return titles;
    }

    public static string Normalized(string text) => Spaces().Replace(text, " ").Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
