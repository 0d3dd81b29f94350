using System.Globalization;
using System.Text.RegularExpressions;

namespace Newsletter.Papers;

/// <summary>Finds http(s) links and arXiv ids in paper text.</summary>
public static partial class LinkExtractor
{
    public const int MaxLinks = 50;

    /// <summary>
    /// The http/https URLs of <paramref name="text"/> in order, de-duplicated, with trailing sentence punctuation
    /// and unbalanced closing brackets trimmed (<c>https://github.com/x/y}.</c> gives <c>https://github.com/x/y</c>;
    /// <c>https://en.wikipedia.org/wiki/A_(b)</c> keeps its parentheses).
    /// </summary>
    public static IReadOnlyList<string> Extract(string? text)
    {
        var links = new List<string>();
        if (string.IsNullOrEmpty(text) || !text.Contains("://", StringComparison.Ordinal))
        {
            return links;
        }

        foreach (Match match in TextNormalizer.UrlPattern().Matches(text))
        {
            AddLink(links, match.Value);
            if (links.Count >= MaxLinks)
            {
                break;
            }
        }

        return links;
    }

    /// <summary>
    /// Adds <paramref name="candidate"/> when it is a valid absolute http(s) URL not yet in the list; a click-tracking
    /// redirect is added as the link it wraps (<see cref="TrackingLinks"/>).
    /// </summary>
    public static bool AddLink(List<string> links, string candidate)
    {
        ArgumentNullException.ThrowIfNull(links);
        if (links.Count >= MaxLinks)
        {
            return false;
        }

        var url = Trim(TrackingLinks.Unwrap(Trim(candidate)));
        // A link is one unbroken line of visible characters: a line break in an href wrote lines of its own into the text
        // part, and a bidi control made ".../gpj.exe" show as ".../exe.jpg".
        if (url.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format)
            || !Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host)
            || links.Contains(url, StringComparer.Ordinal))
        {
            return false;
        }

        links.Add(url);
        return true;
    }

    /// <summary>Trims what follows a URL in prose: punctuation, quotes, unbalanced closing brackets.</summary>
    public static string Trim(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        // How many of each bracket are open and closed in url[..end], counted once and kept as the end moves left:
        // counting again for each trimmed bracket made a URL ending in many ')' quadratic.
        Span<int> opened = stackalloc int[Brackets.Length / 2];
        Span<int> closed = stackalloc int[Brackets.Length / 2];
        foreach (var c in url)
        {
            var k = Brackets.IndexOf(c);
            if (k >= 0)
            {
                (k % 2 == 0 ? opened : closed)[k / 2]++;
            }
        }

        var end = url.Length;
        while (end > 0)
        {
            var c = url[end - 1];
            if (c is '.' or ',' or ';' or ':' or '!' or '?' or '\'' or '"' or '*' or '`' or '\u2019' or '\u201D')
            {
                end--;
                continue;
            }

            var k = Brackets.IndexOf(c);
            if (k % 2 == 1 && opened[k / 2] < closed[k / 2])
            {
                closed[k / 2]--;
                end--;
                continue;
            }

            break;
        }

        return url[..end];
    }

    // Pairs of opening and closing brackets, each opening one at an even index.
    private const string Brackets = "()[]{}<>";

    /// <summary>
    /// The first arXiv id in <paramref name="text"/> (links to arxiv.org/abs|pdf|html, huggingface.co/papers,
    /// or "arXiv:2407.08296" text), without its version: "2407.08296", or "hep-th/9901001" for old ids.
    /// </summary>
    public static string? FindArxivId(string? text)
    {
        if (string.IsNullOrEmpty(text)
            || (!text.Contains("arxiv", StringComparison.OrdinalIgnoreCase) && !text.Contains("huggingface.co/papers/", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        var match = ArxivPattern().Match(text);
        return match.Success ? match.Groups["id"].Value : null;
    }

    [GeneratedRegex("""(?:arxiv\.org/(?:abs|pdf|html)/|huggingface\.co/papers/|\barxiv:\s?)(?<id>\d{4}\.\d{4,5}|[a-z][a-z\-]+(?:\.[a-z]{2})?/\d{7})(?:v\d+)?(?![\d])""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ArxivPattern();
}
