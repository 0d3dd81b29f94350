using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Newsletter.Digests;
using Newsletter.Papers;
using Newsletter.Relevance;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Web;

/// <summary>Which papers of the latest issue an interests line selects, for the subscribe and manage pages.</summary>
public sealed record PreviewResult(IssueSummary? Issue, int Matched, IReadOnlyList<WebPaper> Papers, InterestsError? Error)
{
    /// <summary>"Also for you": what the line, read for meaning, would add beyond its keyword matches.</summary>
    public IReadOnlyList<WebPaper> Suggestions { get; init; } = [];

    public string Summary => Error is not null
        ? "Fix the interests above to see which papers they select."
        : Issue is null
            ? "No issue has arrived yet; the preview appears with the first one."
            : Matched == Issue.PaperCount
                ? $"Every paper: all {Matched} of the latest issue ({Issue.Subject})."
                : $"{Matched} of the {Issue.PaperCount} papers of the latest issue ({Issue.Subject}) match.";
}

/// <summary>
/// Keeps the latest issue's papers and matcher in memory and reloads them when a newer issue arrives, so a preview
/// costs a match (once per interests line and issue) and, at most once a second, one small query. Thread-safe.
/// </summary>
public sealed class IssuePreview(NpgsqlDataSource db, PaperStore papers, RelevanceStore relevance, IOptions<WebOptions> options, TimeProvider clock)
{
    // Issues arrive once a day; asking PostgreSQL on every page view for the newest one was a third of its CPU per view.
    private static readonly TimeSpan Recheck = TimeSpan.FromSeconds(1);

    // Past this many different lines a preview cache starts again: the lines readers have are few, a typed one rare.
    private const int MaxCachedPreviews = 1024;

    private sealed record Latest(IssueContent Content, IssueSimilarities? Similarities, long CheckedAt)
    {
        /// <summary>Previews of this issue by interests line: a line selects the same papers while the issue is the latest.</summary>
        public ConcurrentDictionary<string, PreviewResult> Previews { get; } = new(StringComparer.Ordinal);
    }

    private volatile Latest? _latest;

    public async Task<PreviewResult> PreviewAsync(string? interests, CancellationToken ct)
    {
        InterestQuery query;
        try
        {
            query = InterestQuery.Parse(interests);
        }
        catch (InterestSyntaxException ex)
        {
            return new PreviewResult(null, 0, [], InterestsError.From(interests, ex));
        }

        var latest = await LatestAsync(ct);
        if (latest is null)
        {
            return new PreviewResult(null, 0, [], null);
        }
        var line = interests ?? "";
        if (latest.Previews.TryGetValue(line, out var cached))
        {
            return cached;
        }

        var content = latest.Content;
        var matches = content.Matcher.Match(query);
        var shown = matches.Take(options.Value.PreviewPapers)
            .Select(m => WebPaper.From(content.Papers[m.PaperId], query, m.MatchedTerms))
            .ToList();
        var result = new PreviewResult(content.Issue, matches.Count, shown, null) { Suggestions = await SuggestAsync(latest, query, matches, ct) };
        if (latest.Previews.Count >= MaxCachedPreviews)
        {
            latest.Previews.Clear();
        }
        latest.Previews[line] = result;
        return result;
    }

    /// <summary>What a new reader's digest would add beyond the keywords before any vote: the line read for meaning.</summary>
    private async Task<IReadOnlyList<WebPaper>> SuggestAsync(Latest latest, InterestQuery query, IReadOnlyList<PaperMatch> matches, CancellationToken ct)
    {
        if (latest.Similarities is null || query.PositiveTerms.Length == 0 || await relevance.InterestVectorAsync(query, store: false, ct) is not { } vector)
        {
            return [];
        }
        var profile = new ReaderProfile(query.ToString(), vector, []);
        var ranked = DigestRanker.Rank(latest.Similarities, profile, matches, SuggestionFilter.Suggestible(latest.Content.Matcher, query),
            ReaderChoices.Default.Suggestions);
        return ranked.Suggestions.Select(s => WebPaper.From(latest.Content.Papers[s.PaperId], InterestQuery.Empty, [])).ToList();
    }

    private async Task<Latest?> LatestAsync(CancellationToken ct)
    {
        var cached = _latest;
        if (cached is not null && clock.GetElapsedTime(cached.CheckedAt) < Recheck)
        {
            return cached;
        }

        var now = clock.GetTimestamp();
        await using var command = db.CreateCommand("select id from issues order by issue_date desc nulls last, id desc limit 1");
        if (await command.ExecuteScalarAsync(ct) is not long latestId)
        {
            return null;
        }

        // Two requests may load the same new issue at once; either result is right, so no lock.
        // The papers' vectors come from the worker's fan-out: until it has run, a preview has no suggestions.
        var latest = cached?.Content.Issue.Id == latestId && cached.Similarities is not null
            ? cached with { CheckedAt = now }
            : await LoadAsync(latestId, cached, now, ct);
        _latest = latest;
        return latest;
    }

    private async Task<Latest> LoadAsync(long issueId, Latest? cached, long now, CancellationToken ct)
    {
        var content = cached?.Content.Issue.Id == issueId ? cached.Content : await IssueContent.LoadAsync(papers, issueId, ct);
        var similarities = await relevance.LoadStoredIssueAsync(issueId, [.. content.Papers.Values], ct);
        return new Latest(content, similarities, now);
    }
}
