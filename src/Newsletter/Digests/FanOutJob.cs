using System.ComponentModel;
using Hangfire;
using Microsoft.Extensions.Options;
using Newsletter.Papers;
using Newsletter.Relevance;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Digests;

/// <summary>
/// Decides who gets what for one generation of an issue: streams the subscribers the generation is for, matches
/// each against the issue's papers in process, writes one ledger row per subscriber in bulk, then queues send
/// batches of a few hundred rows. Never one Hangfire job per subscriber: Hangfire moves ~150 jobs/s here.
/// </summary>
public sealed class FanOutJob(
    NpgsqlDataSource db,
    PaperStore papers,
    DeliveryLedger ledger,
    DeliveryGenerations generations,
    InterestQueryCache queries,
    RelevanceStore relevance,
    IBackgroundJobClient jobs,
    IOptions<DeliveryOptions> options,
    IOptions<RelevanceOptions> relevanceOptions,
    ILogger<FanOutJob> logger)
{
    [AutomaticRetry(Attempts = 5)]
    [DisplayName("Fan out issue {0}, generation {1}")]
    public async Task RunAsync(long issueId, int generation, CancellationToken ct)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["IssueId"] = issueId, ["Generation"] = generation });
        var info = await generations.GetAsync(issueId, generation, ct)
            ?? throw new InvalidOperationException($"Issue {issueId} has no delivery generation {generation}.");
        if (info.FannedOutAt is null)
        {
            var issuePapers = await papers.GetIssuePapersAsync(issueId, ct);
            var matcher = new IssueMatcher(issuePapers.Select(p => new MatchablePaper(p.Id, p.Title, p.Abstract)).ToList());
            // Each paper is embedded once, the first time an issue lists it; readers then cost look-ups.
            var similarities = await relevance.LoadIssueAsync(issuePapers, ct);
            var recipients = await RecipientsAsync(info, ct);
            var lines = await relevance.InterestVectorsAsync(recipients.Select(r => r.Query).OfType<InterestQuery>(),
                relevanceOptions.Value.InterestsEmbeddingBudget, ct);
            // Everything this issue needs is embedded: the worker plans and sends without the model's memory.
            relevance.ReleaseModel();
            var votes = await relevance.VotesAsync(info.Scope == GenerationScope.One ? info.SubscriberId : null, ct);
            var wrote = await ledger.WritePlanAsync(issueId, generation,
                new DigestPlanner(matcher, similarities, lines, votes).PlanAll(recipients).ToAsyncEnumerable(), ct);
            logger.LogInformation("Issue {IssueId} generation {Generation}: fan-out {Outcome}", issueId, generation,
                wrote ? "written" : "already written by another run");
        }

        var batches = await SendBatchJob.QueueOpenBatchesAsync(jobs, ledger, issueId, generation, options.Value.BatchSize, ct);
        logger.LogInformation("Issue {IssueId} generation {Generation}: {Batches} send batches queued", issueId, generation, batches);
    }

    public static void Queue(IBackgroundJobClient jobs, long issueId, int generation) =>
        jobs.Enqueue<FanOutJob>(job => job.RunAsync(issueId, generation, CancellationToken.None));

    /// <summary>
    /// One job for the first generation of several new issues: an inbox backlog queues one job per chunk instead of
    /// one per message.
    /// </summary>
    public static void QueueFirstGenerations(IBackgroundJobClient jobs, IReadOnlyList<long> issueIds)
    {
        if (issueIds.Count == 1)
        {
            Queue(jobs, issueIds[0], generation: 1);
        }
        else if (issueIds.Count > 1)
        {
            var ids = issueIds.ToArray();
            jobs.Enqueue<FanOutJob>(job => job.RunFirstGenerationsAsync(ids, CancellationToken.None));
        }
    }

    /// <summary>Generation 1 of each issue, in order; a retry repeats only what the ledger says is undone.</summary>
    [AutomaticRetry(Attempts = 5)]
    [DisplayName("Fan out new issues {0}")]
    public async Task RunFirstGenerationsAsync(long[] issueIds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(issueIds);
        foreach (var issueId in issueIds)
        {
            await RunAsync(issueId, generation: 1, ct);
        }
    }

    /// <summary>Everyone the generation reaches, their lines parsed: the lines' vectors are looked up before anyone is ranked.</summary>
    private async Task<List<PlannedReader>> RecipientsAsync(GenerationInfo info, CancellationToken ct)
    {
        var recipients = new List<PlannedReader>();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = DeliveryGenerations.RecipientsCommand(connection, null, info);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var interests = reader.GetString(1);
            var query = queries.TryGetOrParse(interests, out var error);
            recipients.Add(new PlannedReader(reader.GetInt64(0), query, error, reader.GetInt16(2)));
        }
        return recipients;
    }
}
