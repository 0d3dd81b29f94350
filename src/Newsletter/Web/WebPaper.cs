using System.Globalization;
using Newsletter.Digests;
using Newsletter.Papers;
using Newsletter.Subscribers;

namespace Newsletter.Web;

/// <summary>
/// A paper as a page shows it: title and abstract split into plain and highlighted runs, encoded by Razor. The runs
/// are worked out when a page first reads them, so a preview that lists titles never tokenises the abstracts.
/// </summary>
public sealed class WebPaper
{
    private readonly IssuePaper _paper;
    private readonly InterestQuery _query;

    private WebPaper(IssuePaper paper, InterestQuery query, IReadOnlyList<string> matchedTerms)
    {
        _paper = paper;
        _query = query;
        MatchedTerms = matchedTerms;
    }

    public string Title => _paper.Title;

    public string Url => _paper.Url;

    public IReadOnlyList<string> CodeLinks => _paper.Links;

    public IReadOnlyList<string> MatchedTerms { get; }

    // Worked out once: a cached preview shows the same paper on every page view.
    public IReadOnlyList<TextRun> TitleRuns => field ??= TextRun.Split(_paper.Title, IssueMatcher.Highlight(_paper.Title, _query));

    public IReadOnlyList<TextRun> AbstractRuns => field ??= TextRun.Split(_paper.Abstract, IssueMatcher.Highlight(_paper.Abstract, _query));

    public static WebPaper From(IssuePaper paper, InterestQuery query, IReadOnlyList<string> matchedTerms)
    {
        ArgumentNullException.ThrowIfNull(paper);
        return new WebPaper(paper, query, matchedTerms);
    }
}

/// <summary>An interests line that did not parse: the message, and the line cut where the mistake is.</summary>
public sealed record InterestsError(string Message, string Before, string At, string After)
{
    public static InterestsError From(string? typed, InterestSyntaxException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var text = typed ?? "";
        var position = Math.Clamp(error.Position, 0, text.Length);
        // The cut never halves a character: the marked one is what the reader sees as one (an emoji, a flag).
        if (position > 0 && position < text.Length && char.IsLowSurrogate(text[position]) && char.IsHighSurrogate(text[position - 1]))
        {
            position--;
        }
        var end = position + (position < text.Length ? StringInfo.GetNextTextElementLength(text, position) : 0);
        return new InterestsError(error.Message, text[..position], text[position..end], text[end..]);
    }
}
