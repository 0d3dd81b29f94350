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
    double Score);

/// <summary>Absolute https links of one recipient; tokens are already inside them.</summary>
public sealed record DigestLinks(
    string WebCopy,
    string Manage,
    string Unsubscribe);
