using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Hosting;
using Newsletter.Papers;
using Newsletter.Subscribers;

namespace Newsletter.Digests;

/// <summary>An issue's papers and its matcher, loaded once and shared by every digest of a batch.</summary>
public sealed class IssueContent
{
    private ParsedLine? _lastLine;

    internal IssueContent(IssueSummary issue, IReadOnlyList<IssuePaper> papers)
    {
        Issue = issue;
        Papers = papers.ToDictionary(p => p.Id);
        Matcher = new IssueMatcher(papers.Select(p => new MatchablePaper(p.Id, p.Title, p.Abstract)).ToList());
        Words = papers.ToDictionary(p => p.Id, p => (WordTokenizer.Tokenize(p.Title), WordTokenizer.Tokenize(p.Abstract)));
        ContentKeys = papers.ToDictionary(p => p.Id, ContentKey);
    }

    public IssueSummary Issue { get; }
    public IReadOnlyDictionary<long, IssuePaper> Papers { get; }
    public IssueMatcher Matcher { get; }

    /// <summary>Each paper's title and abstract as words, for highlighting: tokenized once, shared by every digest.</summary>
    public IReadOnlyDictionary<long, (List<WordToken> Title, List<WordToken> Abstract)> Words { get; }

    /// <summary>
    /// Each paper's id and a hash of what its block shows: a paper that gains a code link after a batch loaded it gets a
    /// new key, so a rendered block is never reused for content that changed.
    /// </summary>
    public IReadOnlyDictionary<long, string> ContentKeys { get; }

    private static string ContentKey(IssuePaper paper)
    {
        var content = string.Join('\0', [paper.Title, paper.Abstract, paper.Url, .. paper.Links]);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(content));
        return string.Create(CultureInfo.InvariantCulture, $"{paper.Id}:{Convert.ToHexString(hash, 0, 12)}");
    }

    /// <summary>
    /// The papers a delivery holds, in its order, each with the terms of <paramref name="query"/> it matches now: the
    /// fan-out chose the papers, the terms are recomputed only to show and highlight them (a paper of an older plan
    /// that the interests no longer match has none).
    /// </summary>
    public IReadOnlyList<(IssuePaper Paper, PaperMatch? Match)> DeliveredPapers(IReadOnlyList<long> paperIds, InterestQuery query)
    {
        var matched = Matcher.Match(query).ToDictionary(m => m.PaperId);
        return paperIds.Where(Papers.ContainsKey)
            .Select(id => (Papers[id], matched.TryGetValue(id, out var match) ? match : (PaperMatch?)null))
            .ToList();
    }

    /// <summary>
    /// A reader's line, parsed (a line that no longer parses matches nothing). A batch's readers come in the order of
    /// their lines, so the last line read is kept for the next reader: no process-wide cache fills up during a send.
    /// Threads sharing the content at worst parse a line again: the last line is one immutable record.
    /// </summary>
    public InterestQuery QueryOf(string interests)
    {
        if (_lastLine is { } last && string.Equals(last.Text, interests, StringComparison.Ordinal))
        {
            return last.Query;
        }

        var query = InterestQuery.TryParse(interests, out var parsed, out _) ? parsed : InterestQuery.Empty;
        _lastLine = new ParsedLine(interests, query);
        return query;
    }

    public static async Task<IssueContent> LoadAsync(PaperStore store, long issueId, CancellationToken ct)
    {
        var issue = await store.GetIssueAsync(issueId, ct) ?? throw new IssueNotFoundException(issueId);
        return new IssueContent(issue, await store.GetIssuePapersAsync(issueId, ct));
    }

    /// <summary>The issue, holding the papers of every issue in <paramref name="issueIds"/> (a generation's week), or its own alone when null.</summary>
    public static async Task<IssueContent> LoadAsync(PaperStore store, long issueId, long[]? issueIds, CancellationToken ct)
    {
        if (issueIds is null)
        {
            return await LoadAsync(store, issueId, ct);
        }
        var issue = await store.GetIssueAsync(issueId, ct) ?? throw new IssueNotFoundException(issueId);
        return new IssueContent(issue, await store.GetPapersOfIssuesAsync(issueIds, ct));
    }
}

/// <summary>A reader's line and its query, as <see cref="IssueContent.QueryOf"/> keeps the last one.</summary>
internal sealed record ParsedLine(string Text, InterestQuery Query);

public sealed class IssueNotFoundException(long issueId) : Exception($"Issue {issueId} does not exist.");

/// <summary>Who a digest is for and which delivery it is; the links carry that delivery's tokens.</summary>
public sealed record DigestRecipient(long SubscriberId, string Email, string Interests, int Generation, IReadOnlyList<long> PaperIds, DeliveryTokens Tokens,
    bool TextOnly = false)
{
    /// <summary>Which papers are suggestions, how many matches went to the web copy, why each paper is there.</summary>
    public DeliveryRelevance Relevance { get; init; } = DeliveryRelevance.None;

    /// <summary>The reader's date a weekly digest is for; null for a daily one.</summary>
    public DateOnly? WeekOf { get; init; }
}

/// <summary>Turns an issue and a recipient into the finished MIME message: model, templates, headers.</summary>
public sealed class DigestBuilder(
    DigestRenderer renderer,
    DigestComposer composer,
    IOptions<SiteOptions> site)
{
    /// <summary>What heads a weekly digest and its web copy, where a daily one has its issue's subject.</summary>
    public const string WeeklyTitle = "Your week of trending papers";

    public async Task<MimeMessage> BuildAsync(IssueContent content, DigestRecipient recipient, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(recipient);
        var query = content.QueryOf(recipient.Interests);
        var suggested = recipient.Relevance.SuggestedIds;
        var papers = content.DeliveredPapers(recipient.PaperIds, query).Select((shown, position) =>
        {
            var (paper, match) = shown;
            var terms = match?.MatchedTerms ?? [];
            var (titleWords, abstractWords) = content.Words[paper.Id];
            // The matched terms, with the paper's content, name the whole block.
            return new DigestPaper(paper.Id, paper.Title, paper.Abstract, paper.Url, paper.Links, terms, match?.Score ?? 0)
            {
                Highlighting = match is null ? null : new PaperHighlighting(titleWords, abstractWords, query),
                BlockKey = BlockKey(content.ContentKeys[paper.Id], terms),
                Suggested = suggested.Contains(paper.Id),
                Reason = recipient.Relevance.ReasonFor(position),
                Votes = recipient.Tokens.Vote(paper.Id, more: true) is { } more
                    ? new VoteLinks(site.Value.Link($"vote/{more}"), site.Value.Link($"vote/{recipient.Tokens.Vote(paper.Id, more: false)}"))
                    : null,
            };
        }).ToList();

        var links = new DigestLinks(
            site.Value.Link($"digest/{recipient.Tokens.View}"),
            site.Value.Link($"manage/{recipient.Tokens.Manage}"),
            site.Value.Link($"unsubscribe/{recipient.Tokens.Unsubscribe}"));
        var issue = content.Issue;
        // A weekly digest is headed by its week, not by the latest issue it gathers.
        var model = new DigestModel(recipient.WeekOf ?? issue.IssueDate, recipient.WeekOf is null ? issue.Subject : WeeklyTitle,
            recipient.Email, papers, papers.Count(p => !p.Suggested), links)
        {
            HiddenMatches = recipient.Relevance.HiddenCount,
            Weekly = recipient.WeekOf is not null,
        };
        var rendered = await renderer.RenderAsync(model, ct);
        var subject = recipient.WeekOf is { } week ? WeeklySubject(week, papers.Count) : Subject(issue, papers.Count);
        var envelope = new DigestEnvelope(recipient.Email, issue.Id, recipient.SubscriberId, recipient.Generation, subject, links, recipient.TextOnly);
        return composer.Compose(envelope, rendered);
    }

    /// <summary>The paper's content key and its matched terms, each length-prefixed so no two term lists collide.</summary>
    internal static string BlockKey(string contentKey, IReadOnlyList<string> terms)
    {
        var key = new StringBuilder(contentKey);
        foreach (var term in terms)
        {
            key.Append('|').Append(term.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(term);
        }
        return key.ToString();
    }

    internal static string WeeklySubject(DateOnly weekOf, int paperCount)
    {
        var date = weekOf.ToString("d MMM yyyy", CultureInfo.InvariantCulture);
        return paperCount == 1 ? $"1 paper for you this week ({date})" : $"{paperCount} papers for you this week ({date})";
    }

    internal static string Subject(IssueSummary issue, int paperCount)
    {
        var date = issue.IssueDate?.ToString("d MMM yyyy", CultureInfo.InvariantCulture) ?? "the latest issue";
        return paperCount == 1 ? $"1 paper for you from {date}" : $"{paperCount} papers for you from {date}";
    }
}
