using System.Text.RegularExpressions;
using MimeKit;

namespace Newsletter.IntegrationTests.Support;

/// <summary>Reads what a recipient sees in a digest's plain-text part: the paper titles, in order.</summary>
internal static partial class DigestReader
{
    public static IReadOnlyList<string> Titles(MimeMessage digest)
    {
        var text = digest.GetTextBody(MimeKit.Text.TextFormat.Plain) ?? throw new InvalidOperationException("The digest has no text part.");
        var blocks = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split(new string('-', 70) + "\n");
        var titles = new List<string>();
        foreach (var block in blocks.Skip(1))
        {
            var lines = block.Split('\n');
            var urlLine = Array.FindIndex(lines, l => l.StartsWith("http", StringComparison.Ordinal));
            if (urlLine > 0)
            {
                titles.Add(Spaces().Replace(string.Join(' ', lines[..urlLine]), " ").Trim());
            }
        }
        return titles;
    }

    public static string Normalized(string text) => Spaces().Replace(text, " ").Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
