using Newsletter.Papers;
using Newsletter.Relevance;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Digests;

/// <summary>
/// A reader a fan-out plans for: their keyword line as stored (parsed once per fan-out for all its readers), their "Also
/// for you" limit, and whether papers they were sent before are left out.
/// </summary>
public readonly record struct PlanRecipient(long SubscriberId, string Interests, int Suggestions, bool NoRepeats);

/// <summary>
/// Decides what each reader gets from a set of papers (one issue, or a week's issues each paper once): keyword
/// matches ranked by the reader's profile, suggestions, and, for readers who chose no repeats, none of the papers
/// they were already sent. Shared by the daily fan-out and the weekly run, so both rank alike.
/// </summary>
public sealed class DigestPlanner(
    NpgsqlDataSource db,
    RelevanceStore relevance)
{
    /// <summary>
    /// The readers a query returns (id, interests, suggestions, no_repeats), in its order; readers with the same line
    /// hold one string (the queries order by interests), so 100,000 readers hold each of their lines once.
    /// </summary>
    public static async Task<List<PlanRecipient>> ReadRecipientsAsync(NpgsqlDataReader reader, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var recipients = new List<PlanRecipient>();
        var previous = "";
        while (await reader.ReadAsync(ct))
        {
            var interests = reader.GetString(1);
            previous = string.Equals(interests, previous, StringComparison.Ordinal) ? previous : interests;
            recipients.Add(new PlanRecipient(reader.GetInt64(0), previous, reader.GetInt16(2), reader.GetBoolean(3)));
        }
        return recipients;
    }

    /// <summary>
    /// Loads what ranking needs (vectors, votes, what each reader already received) and returns the plans, computed as
    /// they are enumerated.
    /// </summary>
    /// <param name="repeatsOf">An issue whose earlier deliveries do not count as received (a re-send of it); null: none.</param>
    /// <param name="votesOf">The one reader whose votes are needed, or null for everyone's.</param>
    /// <param name="weekOf">The week a weekly digest is for; null for a daily one.</param>
    /// <param name="issueId">The issue a daily digest is of (its previous listing is part of what is typical); null for a week.</param>
    public async Task<IEnumerable<DeliveryPlan>> PlanAsync(IReadOnlyList<IssuePaper> papers, IReadOnlyList<PlanRecipient> recipients,
        long? repeatsOf, long? votesOf, DateOnly? weekOf, long? issueId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(papers);
        ArgumentNullException.ThrowIfNull(recipients);
        var matcher = new IssueMatcher(papers.Select(p => new MatchablePaper(p.Id, p.Title, p.Abstract)).ToList());
        // Each paper is embedded once, the first time a fan-out meets it (in a child process); readers then cost look-ups.
        var distinctLines = recipients.Select(r => r.Interests).Distinct(StringComparer.Ordinal);
        var (similarities, lines) = await relevance.LoadForFanOutAsync(papers,
            distinctLines.Select(line => Parse(line, out _)).OfType<InterestQuery>(), issueId, ct);
        var votes = await relevance.VotesAsync(votesOf, ct);
        var received = await ReceivedAsync(papers, recipients, repeatsOf, ct);
        var plans = new IssuePlanner(matcher, similarities, lines, votes, Parse).PlanAll(recipients, received);
        return weekOf is null ? plans : plans.Select(plan => plan with { WeekOf = weekOf });
    }

    /// <summary>
    /// A stored line, parsed without <see cref="InterestQueryCache"/>: a fan-out reads each of its lines once per
    /// planner, and its tens of thousands of lines would only fill the cache.
    /// </summary>
    private static InterestQuery? Parse(string line, out string? error) => InterestQuery.TryParse(line, out var query, out error) ? query : null;

    /// <summary>
    /// For each reader who chose no repeats, which of <paramref name="papers"/> a delivery already brought them, or is
    /// bringing (pending, sending, deferred: a backlog plans the next issue before the last one's digests are out). One
    /// query for the whole fan-out: only the deliveries of the issues these papers trended in are read (a weekly digest's
    /// through its generation's issues), only rows sharing a paper kept.
    /// </summary>
    private async Task<Dictionary<long, HashSet<long>>> ReceivedAsync(IReadOnlyList<IssuePaper> papers, IReadOnlyList<PlanRecipient> recipients,
        long? repeatsOf, CancellationToken ct)
    {
        var result = new Dictionary<long, HashSet<long>>();
        if (papers.Count == 0 || !recipients.Any(r => r.NoRepeats))
        {
            return result;
        }

        var paperIds = papers.Select(p => p.Id).ToArray();
        // A handful of readers (a re-send to one) are looked up by id; a whole fan-out reads the issues' rows.
        var readers = recipients.Count <= 1000 ? recipients.Where(r => r.NoRepeats).Select(r => r.SubscriberId).ToArray() : null;
        await using var command = db.CreateCommand(
            """
            with trended as (select distinct ip.issue_id from issue_papers ip where ip.paper_id = any(@papers)),
            considered as (
                select d.issue_id, d.subscriber_id, d.status, d.paper_ids from deliveries d where d.issue_id in (select issue_id from trended)
                union all
                select d.issue_id, d.subscriber_id, d.status, d.paper_ids
                from delivery_generations g join deliveries d on d.issue_id = g.issue_id and d.generation = g.generation
                where g.issue_ids && array(select issue_id from trended))
            select d.subscriber_id, array_agg(distinct p.id)
            from considered d cross join lateral unnest(d.paper_ids) as p(id)
            where d.status in ('sent', 'pending', 'sending', 'deferred') and d.paper_ids && @papers and p.id = any(@papers)
              and (@except::bigint is null or d.issue_id <> @except)
              and (@readers::bigint[] is null or d.subscriber_id = any(@readers))
            group by d.subscriber_id
            """);
        command.Parameters.AddWithValue("papers", paperIds);
        command.Parameters.Add(new NpgsqlParameter<long?>("except", repeatsOf));
        command.Parameters.Add(new NpgsqlParameter<long[]?>("readers", readers) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bigint });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result[reader.GetInt64(0)] = [.. reader.GetFieldValue<long[]>(1)];
        }
        return result;
    }
}
