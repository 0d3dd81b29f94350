using System.Globalization;
using System.Text.RegularExpressions;

namespace Newsletter.Relevance.Service;

/// <summary>One paper of a digest as its text part shows it: the title and its two vote links.</summary>
public sealed record DigestPaper(string Title, bool Suggested, string? MoreLink, string? LessLink);

/// <summary>What a digest's plain-text part shows, read as a reader would: the papers in order and the lines under them.</summary>
public sealed partial record DigestText(IReadOnlyList<DigestPaper> Papers, int Hidden, int LeftForWebCopy)
{
    /// <summary>Each paper's block starts with a rule of 70 dashes, then "Title: " and the (wrapped, indented) title,
    /// then the paper's link.</summary>
    public static DigestText Parse(string text)
    {
        text = text.ReplaceLineEndings("\n");
        var suggestionsFrom = text.IndexOf("\nALSO FOR YOU", StringComparison.Ordinal);
        var papers = new List<DigestPaper>();
        foreach (Match block in Block().Matches(text))
        {
            var lines = block.Groups[1].Value.Split('\n');
            var link = Array.FindIndex(lines, l => l.StartsWith("http://", StringComparison.Ordinal) || l.StartsWith("https://", StringComparison.Ordinal));
            if (link <= 0)
            {
                continue; // the rule above the digest's own footer
            }
            var title = string.Join(' ', lines[..link].Select(l => l.Trim()));
            title = title.StartsWith(TitleLabel, StringComparison.Ordinal) ? title[TitleLabel.Length..] : title;
            var body = block.Groups[1].Value;
            papers.Add(new DigestPaper(title, suggestionsFrom >= 0 && block.Index > suggestionsFrom,
                VoteLink(body, "More like this"), VoteLink(body, "Less like this")));
        }
        return new DigestText(papers, Count(HiddenLine(), text), Count(MoreLine(), text));
    }

    private const string TitleLabel = "Title: ";

    private static string? VoteLink(string block, string label) =>
        Regex.Match(block, "^" + Regex.Escape(label) + @": (\S+)$", RegexOptions.Multiline) is { Success: true } m ? m.Groups[1].Value : null;

    private static int Count(Regex line, string text) =>
        line.Match(text) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

    [GeneratedRegex(@"^-{70}\n(.*?)(?=^-{70}$|^={70}$|\z)", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Block();

    [GeneratedRegex(@"^(\d+) more papers? matched your keywords", RegexOptions.Multiline)]
    private static partial Regex HiddenLine();

    [GeneratedRegex(@"^(\d+) more papers? matched —", RegexOptions.Multiline)]
    private static partial Regex MoreLine();
}
