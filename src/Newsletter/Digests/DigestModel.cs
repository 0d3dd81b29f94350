using Newsletter.Subscribers;

namespace Newsletter.Digests;

/// <summary>Everything a digest template shows. Built by the sender, rendered by <c>DigestRenderer</c>.</summary>
public sealed record DigestModel(
    DateOnly? IssueDate,
    string IssueSubject,
    string RecipientEmail,
    IReadOnlyList<DigestPaper> Papers,
    int TotalMatched,
    DigestLinks Links)
{
    /// <summary>Keyword matches left for the web copy because the reader's votes score them as unwanted.</summary>
    public int HiddenMatches { get; init; }

    /// <summary>A weekly digest: its papers are the week's, not one day's.</summary>
    public bool Weekly { get; init; }
}

/// <summary>A paper as shown in a digest: matched terms drive the highlighting and the "matched" line.</summary>
public sealed record DigestPaper(
    long PaperId,
    string Title,
    string Abstract,
    string Url,
    IReadOnlyList<string> CodeLinks,
    IReadOnlyList<string> MatchedTerms,
    double Score)
{
    private IReadOnlyList<HighlightSpan>? _titleHighlights;
    private IReadOnlyList<HighlightSpan>? _abstractHighlights;

    /// <summary>Spans of <see cref="Title"/> to highlight (from <see cref="IssueMatcher.Highlight"/>); may be unsorted or overlap.</summary>
    public IReadOnlyList<HighlightSpan> TitleHighlights
    {
        get => _titleHighlights ??= Highlighting is { } h ? IssueMatcher.Highlight(h.TitleWords, h.Query) : [];
        init => _titleHighlights = value;
    }

    /// <summary>Spans of <see cref="Abstract"/> to highlight (from <see cref="IssueMatcher.Highlight"/>); may be unsorted or overlap.</summary>
    public IReadOnlyList<HighlightSpan> AbstractHighlights
    {
        get => _abstractHighlights ??= Highlighting is { } h ? IssueMatcher.Highlight(h.AbstractWords, h.Query) : [];
        init => _abstractHighlights = value;
    }

    /// <summary>
    /// Where the highlights come from when they are not given: computed on first use, so a paper whose block is already
    /// rendered (see <see cref="BlockKey"/>) never pays for them.
    /// </summary>
    public PaperHighlighting? Highlighting { get; init; }

    /// <summary>
    /// Names everything this paper's block shows (the paper's content and the matched terms, which also decide the
    /// highlights): digests whose papers have equal keys share one rendered block. Null: rendered for this digest only.
    /// </summary>
    public string? BlockKey { get; init; }

    /// <summary>An "Also for you" paper: outside the keywords, chosen by the reader's profile.</summary>
    public bool Suggested { get; init; }

    /// <summary>Why the reader's profile put it here ("like «Paper X» you liked"); shown under the paper, not cached.</summary>
    public string? Reason { get; init; }

    /// <summary>This delivery's signed "More like this" and "Less like this" links; null where nobody can vote (previews).</summary>
    public VoteLinks? Votes { get; init; }
}

/// <summary>The two vote links of one paper in one delivery.</summary>
public sealed record VoteLinks(string More, string Less);

/// <summary>A paper's words (tokenized once per issue) and the query whose terms are highlighted in them.</summary>
public sealed record PaperHighlighting(IReadOnlyList<WordToken> TitleWords, IReadOnlyList<WordToken> AbstractWords, InterestQuery Query);

/// <summary>Absolute https links of one recipient; tokens are already inside them.</summary>
public sealed record DigestLinks(
    string WebCopy,
    string Manage,
    string Unsubscribe);
