using Newsletter.Digests;
using Newsletter.Papers;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Web;

/// <summary>An issue or one delivery of it, as a web page shows it: every paper, never cut for size.</summary>
public sealed record WebCopy(IssueSummary Issue, IReadOnlyList<WebPaper> Papers, string? Interests)
{
    /// <summary>The reader's date of a weekly digest, whose papers come from the week's issues; null for a daily one.</summary>
    public DateOnly? WeekOf { get; init; }

    /// <summary>A digest's "Also for you": papers beyond the keywords, not among <see cref="Papers"/>.</summary>
    public IReadOnlyList<WebPaper> Suggestions { get; init; } = [];

    /// <summary>Keyword matches the reader's votes left out of the mail (its "voted down" line links here).</summary>
    public IReadOnlyList<WebPaper> Hidden { get; init; } = [];

    /// <summary>A weekly digest's listings, oldest first; empty for a daily one.</summary>
    public IReadOnlyList<IssueSummary> WeekIssues { get; init; } = [];

    /// <summary>The reader's keyword line changed after this digest was made: <see cref="Interests"/> is not the line its
    /// papers matched, so nothing is highlighted.</summary>
    public bool EarlierLine { get; init; }
}

/// <summary>Loads web copies: a delivery's digest (its own papers, highlighted for its subscriber) or a whole issue.</summary>
public sealed class WebCopies(NpgsqlDataSource db, PaperStore papers, InterestQueryCache queries)
{
    public async Task<WebCopy?> LoadDeliveryAsync(long deliveryId, string interests, CancellationToken ct)
    {
        long issueId;
        long[] paperIds;
        long[] suggestedIds;
        long[] hiddenIds;
        long[]? issueIds;
        DateOnly? weekOf;
        bool earlierLine;
        // The web copy has every paper of the delivery: the mail's, then the matches the reader's votes left out of it.
        // A weekly digest's papers come from the week's issues, which its generation lists.
        await using (var command = db.CreateCommand(
            """
            select d.issue_id, d.paper_ids, g.issue_ids, d.week_of, d.suggested_ids, d.hidden_ids,
                coalesce(s.interests_after_delivery >= d.id, false)
            from deliveries d join delivery_generations g on g.issue_id = d.issue_id and g.generation = d.generation
            join subscribers s on s.id = d.subscriber_id
            where d.id = @id
            """))
        {
            command.Parameters.AddWithValue("id", deliveryId);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                return null;
            }

            issueId = reader.GetInt64(0);
            paperIds = reader.GetFieldValue<long[]>(1);
            issueIds = reader.IsDBNull(2) ? null : reader.GetFieldValue<long[]>(2);
            weekOf = reader.IsDBNull(3) ? null : reader.GetFieldValue<DateOnly>(3);
            suggestedIds = reader.GetFieldValue<long[]>(4);
            hiddenIds = reader.GetFieldValue<long[]>(5);
            earlierLine = reader.GetBoolean(6);
        }

        var content = await IssueContent.LoadAsync(papers, issueId, issueIds, ct);
        var weekIssues = new List<IssueSummary>();
        foreach (var id in weekOf is null ? [] : issueIds ?? [])
        {
            if (await papers.GetIssueAsync(id, ct) is { } summary)
            {
                weekIssues.Add(summary);
            }
        }
        // A stored line was checked when saved; one that no longer parses only loses its highlights, as does a digest
        // made with the line before it.
        var query = earlierLine ? InterestQuery.Empty : queries.TryGetOrParse(interests, out _) ?? InterestQuery.Empty;
        // The suggestions and the hidden matches are apart, as the mail has them: under "Also for you", behind one line.
        var shown = content.DeliveredPapers([.. paperIds, .. hiddenIds], query)
            .Select(p => (p.Paper.Id, Paper: WebPaper.From(p.Paper, query, p.Match?.MatchedTerms ?? [])))
            .ToList();
        return new WebCopy(content.Issue, [.. shown.Where(p => !suggestedIds.Contains(p.Id) && !hiddenIds.Contains(p.Id)).Select(p => p.Paper)], interests)
        {
            WeekOf = weekOf,
            Suggestions = [.. shown.Where(p => suggestedIds.Contains(p.Id)).Select(p => p.Paper)],
            Hidden = [.. shown.Where(p => hiddenIds.Contains(p.Id)).Select(p => p.Paper)],
            WeekIssues = [.. weekIssues.OrderBy(i => i.IssueDate).ThenBy(i => i.Id)],
            EarlierLine = earlierLine,
        };
    }

    public async Task<WebCopy?> LoadIssueAsync(long issueId, CancellationToken ct)
    {
        var issue = await papers.GetIssueAsync(issueId, ct);
        if (issue is null)
        {
            return null;
        }

        var all = await papers.GetIssuePapersAsync(issueId, ct);
        return new WebCopy(issue, all.Select(p => WebPaper.From(p, InterestQuery.Empty, [])).ToList(), null);
    }
}
