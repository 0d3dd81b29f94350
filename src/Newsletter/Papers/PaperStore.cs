using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using NpgsqlTypes;

namespace Newsletter.Papers;

/// <summary>Issues and their papers. A paper is one row however many issues it trends in.</summary>
public sealed partial class PaperStore(NpgsqlDataSource db)
{
    /// <summary>
    /// Stores an issue and its papers inside the caller's transaction. Returns null when an issue of the same
    /// date already exists (a second copy of a day's listing is not a second issue).
    /// </summary>
    public static async Task<long?> InsertIssueAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long inboundMessageId, ParsedListing listing,
        DateTimeOffset now, CancellationToken ct)
    {
        // The same paper twice in one listing is listed once, at its first position.
        var papers = listing.Papers
            .Select(p => (Key: PaperKey(p), Paper: p))
            .DistinctBy(p => p.Key)
            .ToList();

        await using var insertIssue = new NpgsqlCommand(
            """
            insert into issues (issue_date, subject, inbound_message_id, paper_count, created_at)
            values (@date, @subject, @inbound, @count, @now)
            on conflict do nothing
            returning id
            """, connection, transaction);
        insertIssue.Parameters.Add(new NpgsqlParameter("date", NpgsqlDbType.Date) { Value = (object?)listing.IssueDate ?? DBNull.Value });
        insertIssue.Parameters.AddWithValue("subject", IssueSubject(listing));
        insertIssue.Parameters.AddWithValue("inbound", inboundMessageId);
        insertIssue.Parameters.AddWithValue("count", papers.Count);
        insertIssue.Parameters.AddWithValue("now", now);
        if (await insertIssue.ExecuteScalarAsync(ct) is not long issueId)
        {
            return null;
        }

        // One statement for all papers: new ones are inserted in key order, so concurrent listings sharing them wait
        // instead of deadlocking; known ones are only read (an upsert would lock them all until commit).
        var byKey = papers.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        var keys = byKey.Select(p => p.Key).ToArray();
        // Each paper's links as one JSON array: PostgreSQL arrays cannot hold arrays of different lengths.
        var links = byKey.Select(p => JsonSerializer.Serialize(p.Paper.Links)).ToArray();
        await using var insert = new NpgsqlCommand(
            """
            with listed as (
                select key, arxiv, title, abstract, array(select jsonb_array_elements_text(links)) as links
                from unnest(@keys, @arxiv, @titles, @abstracts, @links) as t(key, arxiv, title, abstract, links)
            ), inserted as (
                insert into papers (paper_key, arxiv_id, title, abstract, links, first_seen_at)
                select key, arxiv, title, abstract, links, @now from listed l
                where not exists (select 1 from papers p where p.paper_key = l.key)
                order by key
                on conflict (paper_key) do nothing
                returning paper_key, id
            )
            select l.key, coalesce(i.id, p.id), p.id is not null and not (l.links <@ p.links)
            from listed l left join inserted i on i.paper_key = l.key left join papers p on p.paper_key = l.key
            """, connection, transaction);
        insert.Parameters.AddWithValue("keys", keys);
        insert.Parameters.AddWithValue("arxiv", byKey.Select(p => p.Paper.ArxivId).ToArray());
        insert.Parameters.AddWithValue("titles", byKey.Select(p => p.Paper.Title).ToArray());
        insert.Parameters.AddWithValue("abstracts", byKey.Select(p => p.Paper.Abstract).ToArray());
        insert.Parameters.Add(new NpgsqlParameter("links", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = links });
        insert.Parameters.AddWithValue("now", now);
        var idByKey = new Dictionary<string, long>(papers.Count, StringComparer.Ordinal);
        var gainsLinks = new List<int>();
        await using (var reader = await insert.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var key = reader.GetString(0);
                if (!reader.IsDBNull(1))
                {
                    idByKey[key] = reader.GetInt64(1);
                }
                if (!reader.IsDBNull(2) && reader.GetBoolean(2))
                {
                    gainsLinks.Add(Array.BinarySearch(keys, key, StringComparer.Ordinal));
                }
            }
        }
        if (idByKey.Count < byKey.Count)
        {
            // Inserted by a listing ingested at the same time, committed after this statement began: its snapshot
            // could not see the row it then waited for. A new statement can. Its links may lack ours: the update
            // below merges them where they do.
            await using var known = new NpgsqlCommand("select paper_key, id from papers where paper_key = any(@keys)", connection, transaction);
            known.Parameters.AddWithValue("keys", keys.Where(k => !idByKey.ContainsKey(k)).ToArray());
            await using var reader = await known.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var key = reader.GetString(0);
                idByKey[key] = reader.GetInt64(1);
                gainsLinks.Add(Array.BinarySearch(keys, key, StringComparer.Ordinal));
            }
        }
        if (gainsLinks.Count > 0)
        {
            // A known paper that comes back with new links is locked alone, in key order, 'for no key update', which
            // does not wait for the key-share locks other listings' issue_papers rows hold.
            await using var grow = new NpgsqlCommand(
                """
                with listed as (
                    select key, array(select jsonb_array_elements_text(links)) as links from unnest(@keys, @links) as t(key, links)
                ), locked as (
                    select p.id, l.links from papers p join listed l on p.paper_key = l.key order by p.paper_key for no key update of p
                )
                update papers p set links = (select coalesce(array_agg(distinct x), '{}') from unnest(p.links || locked.links) x)
                from locked where p.id = locked.id and not (locked.links <@ p.links)
                """, connection, transaction);
            grow.Parameters.AddWithValue("keys", gainsLinks.Select(i => keys[i]).ToArray());
            grow.Parameters.Add(new NpgsqlParameter("links", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = gainsLinks.Select(i => links[i]).ToArray() });
            await grow.ExecuteNonQueryAsync(ct);
        }
        var paperIds = papers.Select(p => idByKey[p.Key]).ToList();

        await using var members = new NpgsqlCommand(
            """
            insert into issue_papers (issue_id, paper_id, position)
            select @issue, paper_id, ordinality::int from unnest(@papers) with ordinality as t(paper_id, ordinality)
            """, connection, transaction);
        members.Parameters.AddWithValue("issue", issueId);
        members.Parameters.AddWithValue("papers", paperIds.ToArray());
        await members.ExecuteNonQueryAsync(ct);
        return issueId;
    }

    /// <summary>
    /// The listing's subject without the "Fwd:" or "Re:" of whoever passed it on, or, for a listing without one,
    /// "Trending papers" and its date: digests and pages show it as their title.
    /// </summary>
    public static string IssueSubject(ParsedListing listing)
    {
        ArgumentNullException.ThrowIfNull(listing);
        var subject = listing.Subject is null ? "" : ForwardPrefixes().Replace(listing.Subject, "");
        if (!string.IsNullOrWhiteSpace(subject))
        {
            return subject;
        }
        return listing.IssueDate is { } date
            ? string.Create(CultureInfo.InvariantCulture, $"Trending papers of {date:d MMMM yyyy}")
            : "Trending papers";
    }

    /// <summary>
    /// For a listing whose date already has an issue (a forward, a corrected re-send): that issue, and how many of the
    /// listing's papers it does not have. Null when no issue has the listing's date.
    /// </summary>
    public static async Task<(long IssueId, int Papers, int NotInIssue)?> CompareWithIssueOfItsDateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, ParsedListing listing, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(listing);
        var keys = listing.Papers.Select(PaperKey).Distinct().ToArray();
        await using var command = new NpgsqlCommand(
            """
            select i.id, (select count(*)::int from unnest(@keys) k(key) where not exists (
                       select 1 from issue_papers ip join papers p on p.id = ip.paper_id where ip.issue_id = i.id and p.paper_key = k.key))
            from issues i where i.issue_date = @date
            """, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter("date", NpgsqlDbType.Date) { Value = (object?)listing.IssueDate ?? DBNull.Value });
        command.Parameters.AddWithValue("keys", keys);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetInt64(0), keys.Length, reader.GetInt32(1)) : null;
    }

    /// <summary>arXiv id when known, else the folded title: what makes two listings' papers the same paper.</summary>
    public static string PaperKey(ParsedPaper paper) =>
        paper.ArxivId is { Length: > 0 } arxiv ? "arxiv:" + arxiv : "title:" + TextNormalizer.TitleKey(paper.Title);

    public async Task<IReadOnlyList<IssuePaper>> GetIssuePapersAsync(long issueId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select p.id, ip.position, p.title, p.abstract, p.arxiv_id, p.links
            from issue_papers ip join papers p on p.id = ip.paper_id
            where ip.issue_id = @issue
            order by ip.position
            """);
        command.Parameters.AddWithValue("issue", issueId);
        var result = new List<IssuePaper>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new IssuePaper(
                reader.GetInt64(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetFieldValue<string[]>(5)));
        }
        return result;
    }

    /// <summary>The papers of several issues (a week's), each once, in issue order then listing order, numbered afresh.</summary>
    public async Task<IReadOnlyList<IssuePaper>> GetPapersOfIssuesAsync(long[] issueIds, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select p.id, p.title, p.abstract, p.arxiv_id, p.links
            from (select distinct on (ip.paper_id) ip.paper_id, ip.issue_id, ip.position
                  from issue_papers ip where ip.issue_id = any(@issues) order by ip.paper_id, ip.issue_id, ip.position) f
            join papers p on p.id = f.paper_id
            order by f.issue_id, f.position
            """);
        command.Parameters.AddWithValue("issues", issueIds);
        var result = new List<IssuePaper>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new IssuePaper(
                reader.GetInt64(0), result.Count + 1, reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetFieldValue<string[]>(4)));
        }
        return result;
    }

    public async Task<IssueSummary?> GetIssueAsync(long issueId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "select id, issue_date, subject, paper_count, created_at from issues where id = @issue");
        command.Parameters.AddWithValue("issue", issueId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }
        return new IssueSummary(
            reader.GetInt64(0),
            reader.IsDBNull(1) ? null : reader.GetFieldValue<DateOnly>(1),
            reader.GetString(2),
            reader.GetInt32(3),
            reader.GetFieldValue<DateTimeOffset>(4));
    }

    [GeneratedRegex(@"^(?:\s*(?:fwd?|re)\s*:)+\s*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ForwardPrefixes();
}

public sealed record IssueSummary(long Id, DateOnly? IssueDate, string Subject, int PaperCount, DateTimeOffset CreatedAt);

public sealed record IssuePaper(long Id, int Position, string Title, string Abstract, string? ArxivId, IReadOnlyList<string> Links)
{
    /// <summary>
    /// Where a reader finds the paper: arXiv when known, else a search. Made once: every digest shows it.
    /// </summary>
    public string Url { get; } = ArxivId is not null
        ? $"https://arxiv.org/abs/{ArxivId}"
        : $"https://huggingface.co/papers?q={Uri.EscapeDataString(Title)}";
}
