using System.ComponentModel;
using Hangfire;
using Microsoft.Extensions.Options;
using Newsletter.Papers;
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
    DigestPlanner planner,
    IBackgroundJobClient jobs,
    IOptions<DeliveryOptions> options,
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
            // Its own method: what planning held (every reader, every line's row) is garbage before the first batch sends.
            await PlanAndWriteAsync(info, ct);
        }

        var batches = await SendBatchJob.QueueOpenBatchesAsync(jobs, ledger, issueId, generation, options.Value.BatchSize, ct);
        logger.LogInformation("Issue {IssueId} generation {Generation}: {Batches} send batches queued", issueId, generation, batches);
    }

    /// <summary>Plans every recipient's delivery and writes the plan to the ledger, unless another run already has.</summary>
    private async Task PlanAndWriteAsync(GenerationInfo info, CancellationToken ct)
    {
        var (issueId, generation) = (info.IssueId, info.Generation);
        var recipients = await RecipientsAsync(info, ct);
        // A re-send of the issue sends its papers again; only other issues' deliveries count as received.
        long? repeatsOf = generation > 1 ? issueId : null;
        var votesOf = info.Scope == GenerationScope.One ? info.SubscriberId : null;
        var weeks = info.Scope is GenerationScope.One or GenerationScope.Failed
            ? await generations.WeeksOfAsync(issueId, generation, recipients.Select(r => r.SubscriberId).ToArray(), ct)
            : new Dictionary<long, WeekSent>();
        var daily = recipients.Where(r => !weeks.ContainsKey(r.SubscriberId)).ToList();
        var plans = await planner.PlanAsync(await papers.GetIssuePapersAsync(issueId, ct), daily, repeatsOf, votesOf, null, issueId, ct);
        if (weeks.Count > 0)
        {
            // A weekly reader's re-send is their week again: the week's issues, each paper once, and the same week.
            foreach (var week in weeks.Values.DistinctBy(w => (w.WeekOf, string.Join(',', w.IssueIds))))
            {
                var readers = recipients.Where(r => weeks.GetValueOrDefault(r.SubscriberId) is { } w
                    && w.WeekOf == week.WeekOf && w.IssueIds.SequenceEqual(week.IssueIds)).ToList();
                plans = plans.Concat(await planner.PlanAsync(await papers.GetPapersOfIssuesAsync(week.IssueIds, ct), readers,
                    repeatsOf, votesOf, week.WeekOf, null, ct));
            }
            await generations.SetIssuesAsync(issueId, generation, [issueId, .. weeks.Values.SelectMany(w => w.IssueIds)], ct);
        }
        var wrote = await ledger.WritePlanAsync(issueId, generation, recipients.ConvertAll(r => r.SubscriberId), plans.ToAsyncEnumerable(), ct);
        logger.LogInformation("Issue {IssueId} generation {Generation}: fan-out {Outcome}", issueId, generation,
            wrote ? "written" : "already written by another run");
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

    /// <summary>Everyone the generation reaches: the lines' vectors are looked up before anyone is ranked.</summary>
    private async Task<List<PlanRecipient>> RecipientsAsync(GenerationInfo info, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var command = DeliveryGenerations.RecipientsCommand(connection, null, info);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await DigestPlanner.ReadRecipientsAsync(reader, ct);
    }
}
