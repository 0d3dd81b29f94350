using Newsletter.Digests;
using Newsletter.Papers;
using Newsletter.Subscribers;

namespace Newsletter.Web;

/// <summary>A paper as a page shows it: title and abstract split into plain and highlighted runs, encoded by Razor.</summary>
public sealed record WebPaper(
    string Title,
    string Url,
    IReadOnlyList<TextRun> TitleRuns,
    IReadOnlyList<TextRun> AbstractRuns,
    IReadOnlyList<string> CodeLinks,
    IReadOnlyList<string> MatchedTerms)
{
    public static WebPaper From(IssuePaper paper, InterestQuery query, IReadOnlyList<string> matchedTerms)
    {
        ArgumentNullException.ThrowIfNull(paper);
        return new WebPaper(paper.Title, paper.Url,
            TextRun.Split(paper.Title, IssueMatcher.Highlight(paper.Title, query)),
            TextRun.Split(paper.Abstract, IssueMatcher.Highlight(paper.Abstract, query)),
            paper.Links, matchedTerms);
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
        var end = Math.Min(text.Length, position + 1);
        return new InterestsError(error.Message, text[..position], text[position..end], text[end..]);
    }
}
