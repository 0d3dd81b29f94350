using System.Buffers;
using System.Globalization;
using System.Text.RegularExpressions;
using MimeKit.Utils;
using Newsletter.Papers;

namespace Newsletter.Inbox;

/// <summary>
/// Reads the papers of a listing out of text lines (from text/plain, or from HTML through <see cref="HtmlText"/>):
/// a forwarding preamble and "> " quoting are removed, boilerplate and decorations skipped, and each short title
/// paragraph followed by a long abstract paragraph becomes a paper.
/// </summary>
internal static partial class ListingReader
{
    public const int MaxPapers = 500;
    public const int MaxTitleChars = 300;
    public const int MaxAbstractChars = 10_000;
    private const int MaxTitleLines = 4;
    private const int MaxTitleWords = 45;
    private const int MinAbstractChars = 200;
    private const int MinAbstractWords = 25;

    private static readonly HashSet<string> BoilerplateLines = new(StringComparer.OrdinalIgnoreCase)
    {
        "new", "subscribe", "unsubscribe", "manage notifications", "get trending papers in your email inbox!",
        "daily papers", "trending papers", "view in browser", "view this email in your browser", "view online",
    };

    private static readonly string[] BoilerplatePrefixes =
    [
        "byak and the research community", "by ak and the research community", "get trending papers in your email",
    ];

    // Footers end the listing: nothing after them is a paper.
    private static readonly string[] FooterPrefixes =
    [
        "you are receiving this email", "you're receiving this email", "you received this email", "you are receiving this because",
        "to unsubscribe", "unsubscribe from", "manage notifications", "manage your email preferences",
    ];

    public static ListingContent Read(IReadOnlyList<TextLine> lines, bool decodeEntities, DateTimeOffset? sent) =>
        Read(lines, decodeEntities, sent, ParseBudget.Unlimited);

    public static ListingContent Read(IReadOnlyList<TextLine> lines, bool decodeEntities, DateTimeOffset? sent, ParseBudget budget)
    {
        lines = StripQuoting(lines, budget);
        var start = SkipForwardPreamble(lines, ref sent, budget);
        var paragraphs = ToParagraphs(lines, start, decodeEntities, budget);

        DateOnly? issueDate = null;
        var items = new List<Paragraph>();
        foreach (var paragraph in paragraphs)
        {
            budget.Check();
            if (issueDate is null && items.Count < 2 && FindDate(paragraph, sent) is { } date)
            {
                issueDate = date;
            }

            var kind = Classify(paragraph);
            if (kind == Kind.Footer)
            {
                break;
            }

            if (kind != Kind.Skip)
            {
                items.Add(paragraph with { Kind = kind });
            }
        }

        return new ListingContent(Pair(items, budget), issueDate);
    }

    private static List<ParsedPaper> Pair(List<Paragraph> items, ParseBudget budget)
    {
        var drafts = new List<Draft>();
        var urlParagraphs = new List<int>();
        var i = 0;
        while (i < items.Count && drafts.Count < MaxPapers)
        {
            budget.Check();
            if (items[i].Kind == Kind.UrlOnly)
            {
                urlParagraphs.Add(i++);
                continue;
            }

            if (!StartsPaper(items, i))
            {
                i++;
                continue;
            }

            var draft = new Draft(i, items[i]);
            draft.Abstract.Add(items[i + 1]);
            var k = i + 2;
            while (k < items.Count && items[k].Kind == Kind.Text && !StartsPaper(items, k) && IsContinuation(items[k]))
            {
                budget.Check();
                draft.Abstract.Add(items[k++]);
            }

            draft.End = k - 1;
            drafts.Add(draft);
            i = k;
        }

        AttachUrlParagraphs(items, drafts, urlParagraphs, budget);

        var papers = new List<ParsedPaper>(drafts.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var draft in drafts)
        {
            budget.Check();
            if (seen.Add(TextNormalizer.TitleKey(draft.Title.Text)))
            {
                papers.Add(draft.ToPaper());
            }
        }

        return papers;
    }

    // A listing puts a bare link (arXiv page, code) either after each abstract or before each title:
    // the first paper tells which, so a link is never given to the neighbouring paper.
    private static void AttachUrlParagraphs(List<Paragraph> items, List<Draft> drafts, List<int> urlParagraphs, ParseBudget budget)
    {
        if (drafts.Count == 0 || urlParagraphs.Count == 0)
        {
            return;
        }

        var before = urlParagraphs.Contains(drafts[0].TitleIndex - 1);
        foreach (var draft in drafts)
        {
            var from = draft.End + 1;
            if (before)
            {
                from = draft.TitleIndex;
                while (from > 0 && items[from - 1].Kind == Kind.UrlOnly)
                {
                    from--;
                }
            }

            for (var u = from; u < items.Count && items[u].Kind == Kind.UrlOnly; u++)
            {
                budget.Check();
                draft.Urls.AddRange(items[u].Urls);
            }
        }
    }

    private static bool StartsPaper(List<Paragraph> items, int i) =>
        i + 1 < items.Count
        && items[i].Kind == Kind.Text
        && IsTitleLike(items[i])
        && items[i + 1].Kind == Kind.Text
        && IsAbstractLike(items[i + 1])
        && !IsTitleLike(items[i + 1]);

    private static bool IsTitleLike(Paragraph paragraph)
    {
        var text = paragraph.Text;
        return text.Length is >= 3 and <= MaxTitleChars
            && paragraph.LineCount <= MaxTitleLines
            && !EndsSentence(text)
            && paragraph.Words <= MaxTitleWords
            && MostlyLetters(text);
    }

    // At least half of the characters other than spaces are letters.
    private static bool MostlyLetters(string text)
    {
        int letters = 0, others = 0;
        foreach (var c in text)
        {
            if (char.IsLetter(c))
            {
                letters++;
            }
            else if (c != ' ')
            {
                others++;
            }
        }

        return letters >= others;
    }

    private static bool IsAbstractLike(Paragraph paragraph)
    {
        var text = paragraph.Text;
        return text.Length >= MinAbstractChars && paragraph.Words >= MinAbstractWords;
    }

    private static bool IsContinuation(Paragraph paragraph) =>
        !IsTitleLike(paragraph) && (IsAbstractLike(paragraph) || EndsSentence(paragraph.Text));

    private static bool EndsSentence(string text) =>
        text.Length > 0 && text[^1] == '.' && !text.EndsWith("...", StringComparison.Ordinal);

    private static int WordCount(string text, int stopAt)
    {
        var count = 0;
        var inWord = false;
        foreach (var c in text)
        {
            if (c == ' ')
            {
                inWord = false;
            }
            else if (!inWord)
            {
                inWord = true;
                if (++count >= stopAt)
                {
                    break;
                }
            }
        }

        return count;
    }

    private static Kind Classify(Paragraph paragraph)
    {
        var text = paragraph.Text;
        if (text.Length == 0 || IsDecoration(text))
        {
            return Kind.Skip;
        }

        if (FooterPrefixes.Any(p => text.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
        {
            return Kind.Footer;
        }

        if ((text.Length <= 60 && BoilerplateLines.Contains(text))
            || BoilerplatePrefixes.Any(p => text.StartsWith(p, StringComparison.OrdinalIgnoreCase))
            || (text.Length < 60 && DateLine().IsMatch(text))
            || HeaderLine().IsMatch(text))
        {
            return Kind.Skip;
        }

        return paragraph.Urls.Count > 0 && IsLinkList(text) ? Kind.UrlOnly : Kind.Text;
    }

    // "https://a.example/x https://b.example/y" or "Code: https://a.example/x": an optional label (up to 20 word
    // characters or spaces, then a colon) and links separated by whitespace. Scanned, not matched with a regular
    // expression: "(?:https?://\S+\s*)+$" backtracked exponentially on "http://" repeated and a word after it.
    internal static bool IsLinkList(string text)
    {
        if (AreAllLinks(text))
        {
            return true;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon is >= 0 and <= 20 && IsLabel(text.AsSpan(0, colon)) && AreAllLinks(text.AsSpan(colon + 1).TrimStart());
    }

    private static bool AreAllLinks(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty || char.IsWhiteSpace(text[0]))
        {
            return false;
        }

        foreach (var range in text.SplitAny(Whitespace))
        {
            var word = text[range];
            if (word.IsEmpty)
            {
                continue;
            }

            var scheme = word.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? 8
                : word.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? 7
                : 0;
            if (scheme == 0 || word.Length == scheme)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLabel(ReadOnlySpan<char> label)
    {
        foreach (var c in label)
        {
            if (c != ' ' && c != '_' && !char.IsLetterOrDigit(c)
                && CharUnicodeInfo.GetUnicodeCategory(c) is not (UnicodeCategory.NonSpacingMark or UnicodeCategory.ConnectorPunctuation))
            {
                return false;
            }
        }

        return true;
    }

    private static readonly SearchValues<char> Whitespace = SearchValues.Create(
        Enumerable.Range(0, char.MaxValue + 1).Select(i => (char)i).Where(char.IsWhiteSpace).ToArray());

    // "▲ 42", "42", "---", "* * *", "12 upvotes · 3 comments": nothing a reader would call text.
    private static bool IsDecoration(string text) => !text.Any(char.IsLetter) || CountLine().IsMatch(text);

    private static IReadOnlyList<TextLine> StripQuoting(IReadOnlyList<TextLine> lines, ParseBudget budget)
    {
        int quoted = 0, nonEmpty = 0;
        foreach (var line in lines)
        {
            budget.Check();
            var trimmed = line.Text.TrimStart();
            if (trimmed.Length > 0)
            {
                nonEmpty++;
                if (trimmed[0] == '>')
                {
                    quoted++;
                }
            }
        }

        if (quoted == 0 || quoted * 10 < nonEmpty * 3)
        {
            return lines;
        }

        return lines.Select(l => l with { Text = QuotePrefix().Replace(l.Text, string.Empty, 1) }).ToList();
    }

    // Drops everything up to the last forwarded-message header block ("---------- Forwarded message ---------",
    // "Begin forwarded message:", or From:/Date:/Subject: lines); its Date: line, when readable, dates the listing.
    private static int SkipForwardPreamble(IReadOnlyList<TextLine> lines, ref DateTimeOffset? sent, ParseBudget budget)
    {
        var start = 0;
        for (var i = 0; i < lines.Count; i++)
        {
            budget.Check();
            var text = lines[i].Text.Trim();
            var marker = ForwardMarker().IsMatch(text);
            if (!marker && !(HeaderLine().IsMatch(text) && IsHeaderBlock(lines, i)))
            {
                continue;
            }

            var j = marker ? i + 1 : i;
            while (j < lines.Count)
            {
                budget.Check();
                var line = lines[j].Text.Trim();
                if (line.Length > 0 && !HeaderLine().IsMatch(line))
                {
                    break;
                }

                if (HeaderLine().Match(line) is { Success: true } header
                    && header.Groups["name"].Value.Equals("Date", StringComparison.OrdinalIgnoreCase)
                    && ParseForwardedDate(line[header.Length..]) is { } forwarded)
                {
                    sent = forwarded;
                }

                j++;
            }

            start = j;
            i = j - 1;
        }

        return start;
    }

    private static bool IsHeaderBlock(IReadOnlyList<TextLine> lines, int i)
    {
        var headers = 0;
        for (var j = i; j < lines.Count && j < i + 8; j++)
        {
            var text = lines[j].Text.Trim();
            if (HeaderLine().IsMatch(text))
            {
                headers++;
            }
            else if (text.Length > 0)
            {
                break;
            }
        }

        return headers >= 3;
    }

    private static DateTimeOffset? ParseForwardedDate(string value)
    {
        value = value.Trim().Trim('*').Trim();
        if (DateUtils.TryParse(value, out var rfc))
        {
            return rfc;
        }

        // Gmail: "Tue, Mar 11, 2025 at 2:02 PM"; Apple Mail: "11 March 2025 at 14:02:31 GMT".
        value = value.Replace(" at ", " ", StringComparison.Ordinal);
        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces | DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed
            : null;
    }

    private static List<Paragraph> ToParagraphs(IReadOnlyList<TextLine> lines, int start, bool decodeEntities, ParseBudget budget)
    {
        var paragraphs = new List<Paragraph>();
        var texts = new List<string>();
        var hrefs = new List<string>();
        for (var i = start; i <= lines.Count; i++)
        {
            budget.Check();
            var text = i < lines.Count ? TextNormalizer.Normalize(lines[i].Text, decodeEntities) : string.Empty;
            if (text.Length > 0)
            {
                texts.Add(text);
                hrefs.AddRange(lines[i].Hrefs);
                continue;
            }

            // Counters and separators on their own line at either end ("▲ 42" above a title) are not part of it.
            var first = 0;
            while (texts.Count - first > 1 && IsDecoration(texts[first]))
            {
                budget.Check();
                first++;
            }

            var last = texts.Count - 1;
            while (last > first && IsDecoration(texts[last]))
            {
                budget.Check();
                last--;
            }

            if (texts.Count > 0)
            {
                paragraphs.Add(Paragraph.Create(texts.GetRange(first, last - first + 1), hrefs));
                texts.Clear();
                hrefs.Clear();
            }
        }

        return paragraphs;
    }

    private static DateOnly? FindDate(Paragraph paragraph, DateTimeOffset? sent)
    {
        foreach (var line in paragraph.Lines)
        {
            if (line.Length > 120)
            {
                continue;
            }

            foreach (var segment in DateSeparator().Split(line))
            {
                var match = DateLine().Match(segment.Trim());
                if (match.Success)
                {
                    return ToDate(match, sent);
                }
            }
        }

        return null;
    }

    private static DateOnly? ToDate(Match match, DateTimeOffset? sent)
    {
        var month = Array.IndexOf(Months, match.Groups["month"].Value[..3].ToLowerInvariant()) + 1;
        var day = int.Parse(match.Groups["day"].Value, CultureInfo.InvariantCulture);
        if (day < 1)
        {
            return null;
        }
        if (match.Groups["year"].Success)
        {
            var year = int.Parse(match.Groups["year"].Value, CultureInfo.InvariantCulture);
            return day <= DateTime.DaysInMonth(year, month) ? new DateOnly(year, month, day) : null;
        }

        if (sent is not { } sentAt)
        {
            return null;
        }

        // The listing goes out on (or just after) its date: take the latest such date not after the send date,
        // with a few days of slack for time zones and late sends.
        var reference = DateOnly.FromDateTime(sentAt.DateTime);
        DateOnly? best = null;
        for (var year = reference.Year + 1; year >= reference.Year - 1; year--)
        {
            if (day > DateTime.DaysInMonth(year, month))
            {
                continue;
            }

            var candidate = new DateOnly(year, month, day);
            if (candidate.DayNumber <= reference.DayNumber + 3)
            {
                best = candidate;
                break;
            }
        }

        return best;
    }

    private static readonly string[] Months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

    [GeneratedRegex("""^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?(?:(?<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s+(?<day>[0-3]?\d)(?:st|nd|rd|th)?|(?<day>[0-3]?\d)(?:st|nd|rd|th)?\s+(?<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?)(?:,?\s+(?<year>(?:19|20)\d\d))?$""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DateLine();

    [GeneratedRegex("""\s[·•|–—-]\s""", RegexOptions.CultureInvariant)]
    private static partial Regex DateSeparator();

    [GeneratedRegex("""^\W*\d+\s*(?:up-?votes?|votes?|likes?|comments?|points?)\b[\W\d]*(?:(?:up-?votes?|votes?|likes?|comments?|points?)\W*)?$""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CountLine();

    [GeneratedRegex("""^\s*(?:>\s?)+""", RegexOptions.CultureInvariant)]
    private static partial Regex QuotePrefix();

    [GeneratedRegex("""^(?:-{2,}\s*(?:forwarded message|original message)\s*-{2,}|begin forwarded message:?|-{2,}\s*forwarded by .*)$""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ForwardMarker();

    [GeneratedRegex("""^\*?(?<name>From|Date|Sent|Subject|To|Cc|Reply-To)\*?\s*:\*?""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HeaderLine();

    private enum Kind
    {
        Text,
        Skip,
        Footer,
        UrlOnly,
    }

    private sealed record Paragraph(string Text, IReadOnlyList<string> Lines, int LineCount, IReadOnlyList<string> Hrefs, IReadOnlyList<string> Urls, Kind Kind)
    {
        // Counted only as far as the title and abstract rules look.
        public int Words { get; } = WordCount(Text, MaxTitleWords + 1);

        public static Paragraph Create(List<string> lines, List<string> hrefs)
        {
            var text = string.Join(' ', lines);
            var urls = LinkExtractor.Extract(text);
            return new Paragraph(text, [.. lines], lines.Count, [.. hrefs], urls, Kind.Text);
        }
    }

    private sealed class Draft(int titleIndex, Paragraph title)
    {
        public int TitleIndex { get; } = titleIndex;

        public int End { get; set; }

        public Paragraph Title { get; } = title;

        public List<Paragraph> Abstract { get; } = [];

        public List<string> Urls { get; } = [];

        public ParsedPaper ToPaper()
        {
            var text = Truncate(string.Join(' ', Abstract.Select(p => p.Text)), MaxAbstractChars);
            var links = new List<string>();
            foreach (var link in LinkExtractor.Extract(text).Concat(Abstract.SelectMany(p => p.Hrefs)).Concat(Urls))
            {
                LinkExtractor.AddLink(links, link);
            }

            // Only the paper's own links and title name it: an id in the abstract may be a paper it cites.
            var arxivId = LinkExtractor.FindArxivId(string.Join(' ', Title.Hrefs.Select(TrackingLinks.Unwrap)))
                ?? LinkExtractor.FindArxivId(string.Join(' ', Urls))
                ?? LinkExtractor.FindArxivId(Title.Text);
            return new ParsedPaper(Title.Text, text, arxivId, links);
        }

        private static string Truncate(string text, int max)
        {
            if (text.Length <= max)
            {
                return text;
            }

            var cut = char.IsHighSurrogate(text[max - 1]) ? max - 1 : max;
            var space = text.LastIndexOf(' ', cut - 1, Math.Min(cut, 200));
            return text[..(space > 0 ? space : cut)];
        }
    }
}

internal sealed record ListingContent(IReadOnlyList<ParsedPaper> Papers, DateOnly? IssueDate);
