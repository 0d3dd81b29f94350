using Microsoft.Extensions.Options;
using Newsletter.Digests;
using Newsletter.Papers;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Web;

/// <summary>Which papers of the latest issue an interests line selects, for the subscribe and manage pages.</summary>
public sealed record PreviewResult(IssueSummary? Issue, int Matched, IReadOnlyList<WebPaper> Papers, InterestsError? Error)
{
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
/// costs a match and, at most once a second, one small query. Thread-safe.
/// </summary>
public sealed class IssuePreview(NpgsqlDataSource db, PaperStore papers, IOptions<WebOptions> options, TimeProvider clock)
{
    // Issues arrive once a day; asking PostgreSQL on every page view for the newest one was a third of its CPU per view.
    private static readonly TimeSpan Recheck = TimeSpan.FromSeconds(1);

    private sealed record Latest(IssueContent Content, long CheckedAt);

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

        var content = await LatestAsync(ct);
        if (content is null)
        {
            return new PreviewResult(null, 0, [], null);
        }

        var matches = content.Matcher.Match(query);
        var shown = matches.Take(options.Value.PreviewPapers)
            .Select(m => WebPaper.From(content.Papers[m.PaperId], query, m.MatchedTerms))
            .ToList();
        return new PreviewResult(content.Issue, matches.Count, shown, null);
    }

    private async Task<IssueContent?> LatestAsync(CancellationToken ct)
    {
        var cached = _latest;
        if (cached is not null && clock.GetElapsedTime(cached.CheckedAt) < Recheck)
        {
            return cached.Content;
        }

        var now = clock.GetTimestamp();
        await using var command = db.CreateCommand("select id from issues order by issue_date desc nulls last, id desc limit 1");
        if (await command.ExecuteScalarAsync(ct) is not long latestId)
        {
            return null;
        }

        // Two requests may load the same new issue at once; either result is right, so no lock.
        var content = cached?.Content.Issue.Id == latestId ? cached.Content : await IssueContent.LoadAsync(papers, latestId, ct);
        _latest = new Latest(content, now);
        return content;
    }
}
