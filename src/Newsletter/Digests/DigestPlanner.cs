using Microsoft.Extensions.Options;
using Newsletter.Papers;
using Newsletter.Relevance;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Digests;

/// <summary>A reader a fan-out plans for, their line parsed (or why it could not be).</summary>
public sealed record PlanRecipient(long SubscriberId, string Interests, InterestQuery? Query, string? Error, int Suggestions, bool NoRepeats);

/// <summary>
/// Decides what each reader gets from a set of papers (one issue, or a week's issues each paper once): keyword
/// matches ranked by the reader's profile, suggestions, and, for readers who chose no repeats, none of the papers
/// they were already sent. Shared by the daily fan-out and the weekly run, so both rank alike.
/// </summary>
public sealed class DigestPlanner(
    NpgsqlDataSource db,
    InterestQueryCache queries,
    RelevanceStore relevance,
    IOptions<RelevanceOptions> relevanceOptions)
{
    public PlanRecipient Recipient(long subscriberId, string interests, int suggestions, bool noRepeats)
    {
        var query = queries.TryGetOrParse(interests, out var error);
        return new PlanRecipient(subscriberId, interests, query, error, suggestions, noRepeats);
    }

    /// <summary>
    /// Loads what ranking needs (vectors, votes, what each reader already received) and returns the plans, computed as
    /// they are enumerated.
    /// </summary>
    /// <param name="repeatsOf">An issue whose earlier deliveries do not count as received (a re-send of it); null: none.</param>
    /// <param name="votesOf">The one reader whose votes are needed, or null for everyone's.</param>
    /// <param name="weekOf">The week a weekly digest is for; null for a daily one.</param>
    public async Task<IEnumerable<DeliveryPlan>> PlanAsync(IReadOnlyList<IssuePaper> papers, IReadOnlyList<PlanRecipient> recipients,
        long? repeatsOf, long? votesOf, DateOnly? weekOf, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(papers);
        ArgumentNullException.ThrowIfNull(recipients);
        var matcher = new IssueMatcher(papers.Select(p => new MatchablePaper(p.Id, p.Title, p.Abstract)).ToList());
        // Each paper is embedded once, the first time a fan-out meets it; readers then cost look-ups.
        var similarities = await relevance.LoadIssueAsync(papers, ct);
        var lines = await relevance.InterestVectorsAsync(recipients.Select(r => r.Query).OfType<InterestQuery>(),
            relevanceOptions.Value.InterestsEmbeddingBudget, ct);
        var votes = await relevance.VotesAsync(votesOf, ct);
        var received = await ReceivedAsync(papers, recipients, repeatsOf, ct);
        return Plan(recipients, matcher, similarities, lines, votes, received, weekOf);
    }

    /// <summary>
    /// For each reader who chose no repeats, which of <paramref name="papers"/> a sent delivery already brought them. One
    /// query for the whole fan-out: only the issues these papers trended in are read, only rows sharing a paper kept.
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
            select d.subscriber_id, array_agg(distinct p.id)
            from deliveries d cross join lateral unnest(d.paper_ids) as p(id)
            where d.issue_id in (select ip.issue_id from issue_papers ip where ip.paper_id = any(@papers))
              and d.status = 'sent' and d.paper_ids && @papers and p.id = any(@papers)
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

    private static IEnumerable<DeliveryPlan> Plan(IReadOnlyList<PlanRecipient> recipients, IssueMatcher matcher, IssueSimilarities similarities,
        IReadOnlyDictionary<string, Embedding> lines, IReadOnlyDictionary<long, List<ProfileVote>> votes,
        Dictionary<long, HashSet<long>> received, DateOnly? weekOf)
    {
        foreach (var recipient in recipients)
        {
            var plan = PlanOne(recipient, matcher, similarities, lines, votes,
                recipient.NoRepeats ? received.GetValueOrDefault(recipient.SubscriberId) : null);
            yield return weekOf is null ? plan : plan with { WeekOf = weekOf };
        }
    }

    private static DeliveryPlan PlanOne(PlanRecipient recipient, IssueMatcher matcher, IssueSimilarities similarities,
        IReadOnlyDictionary<string, Embedding> lines, IReadOnlyDictionary<long, List<ProfileVote>> votes, HashSet<long>? received)
    {
        if (recipient.Query is not { } query)
        {
            // Stored interests are validated on the way in; if one still fails, the ledger says so.
            return new DeliveryPlan(recipient.SubscriberId, [], 0, $"interests could not be read: {recipient.Error}");
        }
        var nothing = received is null ? "no paper matched the interests" : "no paper matched the interests that was not sent before";
        var vector = lines.GetValueOrDefault(TextEmbedder.InterestsText(query));
        var readerVotes = votes.GetValueOrDefault(recipient.SubscriberId);
        if (vector is null && readerVotes is null)
        {
            // Nothing to read for meaning (a line not embedded yet, or no positive term) and no votes: keywords alone.
            long[] paperIds;
            double score;
            if (received is null)
            {
                paperIds = matcher.MatchPaperIds(query, out score);
            }
            else
            {
                var fresh = matcher.Match(query).Where(m => !received.Contains(m.PaperId)).ToList();
                paperIds = [.. fresh.Select(m => m.PaperId)];
                score = fresh.Sum(m => m.Score);
            }
            return paperIds.Length == 0
                ? new DeliveryPlan(recipient.SubscriberId, [], 0, nothing)
                : new DeliveryPlan(recipient.SubscriberId, paperIds, (float)score, null);
        }

        var profile = new ReaderProfile(recipient.Interests, vector, readerVotes ?? []);
        IReadOnlyList<PaperMatch> matches = matcher.Match(query);
        var suggestible = SuggestionFilter.Suggestible(matcher, query);
        if (received is not null)
        {
            matches = [.. matches.Where(m => !received.Contains(m.PaperId))];
            suggestible = (suggestible ?? similarities.PaperIds.ToHashSet()).Where(id => !received.Contains(id)).ToHashSet();
        }
        var ranked = DigestRanker.Rank(similarities, profile, matches, suggestible, recipient.Suggestions);
        var shown = ranked.Shown.ToArray();
        if (shown.Length == 0)
        {
            return new DeliveryPlan(recipient.SubscriberId, [], 0,
                ranked.Hidden.Count > 0 ? "every match looks like papers the reader voted down" : nothing)
            {
                HiddenIds = [.. ranked.Hidden.Select(p => p.PaperId)],
            };
        }
        return new DeliveryPlan(recipient.SubscriberId, [.. shown.Select(p => p.PaperId)],
            (float)ranked.Matches.Sum(p => p.Match?.Score ?? 0), null)
        {
            SuggestedIds = [.. ranked.Suggestions.Select(p => p.PaperId)],
            HiddenIds = [.. ranked.Hidden.Select(p => p.PaperId)],
            Reasons = [.. shown.Select(Reason)],
        };
    }

    /// <summary>What the digest says under a paper about why it is there; empty for a keyword match (its block says).</summary>
    private static string Reason(RankedPaper paper) => paper.Reason switch
    {
        RankReason.LikedPaper when paper.LikedPaper is { } liked => $"Like «{Shorten(liked.Title)}», which you liked",
        RankReason.Interests => "Close to your interests",
        _ => "",
    };

    private static string Shorten(string title) => title.Length <= 90 ? title : string.Concat(title.AsSpan(0, 89), "…");
}
