using Newsletter.Subscribers;

namespace Newsletter.Digests;

/// <summary>Everything a digest template shows. Built by the sender, rendered by <c>DigestRenderer</c>.</summary>
public sealed record DigestModel(
    DateOnly? IssueDate,
    string IssueSubject,
    string RecipientEmail,
    IReadOnlyList<DigestPaper> Papers,
    int TotalMatched,
    DigestLinks Links);

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
    /// <summary>Spans of <see cref="Title"/> to highlight (from <see cref="IssueMatcher.Highlight"/>); may be unsorted or overlap.</summary>
    public IReadOnlyList<HighlightSpan> TitleHighlights { get; init; } = [];

    /// <summary>Spans of <see cref="Abstract"/> to highlight (from <see cref="IssueMatcher.Highlight"/>); may be unsorted or overlap.</summary>
    public IReadOnlyList<HighlightSpan> AbstractHighlights { get; init; } = [];
}

/// <summary>Absolute https links of one recipient; tokens are already inside them.</summary>
public sealed record DigestLinks(
    string WebCopy,
    string Manage,
    string Unsubscribe);
