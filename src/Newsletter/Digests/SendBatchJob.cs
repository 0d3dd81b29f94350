using System.ComponentModel;
using Hangfire;
using Microsoft.Extensions.Options;
using Newsletter.Hosting;
using Newsletter.Papers;
using Newsletter.Subscribers;
using Polly;
using Polly.Retry;
using Newsletter.Mail;
using Newsletter.Database;

namespace Newsletter.Digests;

/// <summary>
/// Sends one batch of an issue's deliveries over one reused connection and records each outcome in the ledger:
/// sent (with the server's reply), deferred (4xx, lost connection: retried later with backoff until the deadline)
/// or failed (5xx; 5.1.x also marks the subscriber bounced). Polly absorbs short faults inside the batch; a deferred
/// row brings the job back when it is due.
/// </summary>
public sealed class SendBatchJob(
    DeliveryLedger ledger,
    DeliveryGenerations generations,
    PaperStore papers,
    DigestBuilder builder,
    DigestRenderer renderer,
    IDigestTransportFactory transports,
    ReturnPaths returnPaths,
    DigestRateLimiter rateLimiter,
    IBackgroundJobClient jobs,
    IOptions<DeliveryOptions> delivery,
    NewsletterMetrics metrics,
    TimeProvider clock,
    ILogger<SendBatchJob> logger)
{
    public const string Queue = "digests";

    private static readonly string Worker = $"{Environment.MachineName}:{Environment.ProcessId}";

    [Queue(Queue)]
    [AutomaticRetry(Attempts = 10)]
    [DisplayName("Send issue {0}, generation {1}, deliveries {2}-{3}")]
    public async Task RunAsync(long issueId, int generation, long fromId, long toId, CancellationToken ct)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["IssueId"] = issueId, ["Generation"] = generation, ["Batch"] = $"{fromId}-{toId}" });
        await using var lease = await ledger.TryLeaseBatchAsync(fromId, Worker, ct);
        if (lease is null)
        {
            logger.LogInformation("Deliveries {From}-{To} are being sent by another live run", fromId, toId);
            return;
        }

        var work = await ledger.ReadBatchAsync(issueId, generation, fromId, toId, ct);
        if (work.Count > 0)
        {
            // A weekly generation's digests draw on the week's issues, which its row lists.
            var info = await generations.GetAsync(issueId, generation, ct);
            var content = await IssueContent.LoadAsync(papers, issueId, info?.IssueIds, ct);
            await SendAsync(lease, content, generation, work, ct);
            if (renderer.BlockCacheStatistics is { } blocks)
            {
                // A low share of reused blocks means Newsletter:Templates:PaperBlockCacheMegabytes is too small.
                logger.LogInformation(
                    "Deliveries {From}-{To}: {Count} digests handled; paper blocks so far {Reused} reused, {Rendered} rendered, {Cached} cached ({CachedBytes} bytes)",
                    fromId, toId, work.Count, blocks.TotalHits, blocks.TotalMisses, blocks.CurrentEntryCount, blocks.CurrentEstimatedSize);
            }
        }

        if (await ledger.NextDeferredAsync(issueId, generation, fromId, toId, ct) is { } due)
        {
            var delay = due - clock.GetUtcNow();
            jobs.Schedule<SendBatchJob>(job => job.RunAsync(issueId, generation, fromId, toId, CancellationToken.None),
                delay < TimeSpan.Zero ? TimeSpan.Zero : delay);
        }
    }

    /// <summary>Queues one job per open range of a generation's rows (the fan-out's, and the recovery's for a stalled one).</summary>
    /// <returns>How many batches were queued.</returns>
    public static async Task<int> QueueOpenBatchesAsync(IBackgroundJobClient jobs, DeliveryLedger ledger, long issueId, int generation, int batchSize, CancellationToken ct)
    {
        var batches = await ledger.OpenBatchesAsync(issueId, generation, batchSize, ct);
        foreach (var (from, to) in batches)
        {
            jobs.Enqueue<SendBatchJob>(job => job.RunAsync(issueId, generation, from, to, CancellationToken.None));
        }
        return batches.Count;
    }

    private async Task SendAsync(BatchLease lease, IssueContent content, int generation, IReadOnlyList<DeliveryWork> work, CancellationToken ct)
    {
        IDigestTransport? transport = null;
        var unreachable = 0;
        var stopped = new HashSet<long>();
        var checkedAt = clock.GetTimestamp();
        try
        {
            for (var next = 0; next < work.Count; next++)
            {
                var row = work[next];
                MimeKit.MimeMessage message;
                try
                {
                    message = await builder.BuildAsync(content,
                        new DigestRecipient(row.SubscriberId, row.Email, row.Interests, generation, row.PaperIds, row.Tokens, row.Format == DigestFormat.Text) { Relevance = row.Relevance, WeekOf = row.WeekOf }, ct);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One digest that cannot be rendered (a broken custom template, hostile data) fails alone.
                    logger.LogError(ex, "Delivery {DeliveryId} could not be rendered", row.Id);
                    await lease.RecordAsync(new RecordedOutcome(row.Id, DeliveryStatus.Failed, null, $"could not be rendered: {ex.Message}", null, null), ct);
                    continue;
                }

                using var permit = await rateLimiter.AcquireAsync(ct);
                // The last digest's outcome is in the ledger before this one goes out: a crash repeats at most one.
                await lease.WrittenAsync();
                if (clock.GetElapsedTime(checkedAt) >= StoppedReadersCheck)
                {
                    // A reader who unsubscribed or paused since the batch was read gets nothing more than a few seconds later.
                    var since = await ledger.SkipStoppedAsync([.. work.Skip(next).Select(r => r.Id)], ct);
                    if (since.Count > 0)
                    {
                        logger.LogInformation("{Count} readers of this batch stopped or were erased while it was sending; their digests are not sent", since.Count);
                        stopped.UnionWith(since);
                    }
                    checkedAt = clock.GetTimestamp();
                }
                if (stopped.Contains(row.Id))
                {
                    continue;
                }

                SendOutcome outcome;
                var started = clock.GetTimestamp();
                if (unreachable >= 3)
                {
                    // The server is down: defer the rest at once instead of timing out on every row.
                    outcome = new SendOutcome(SendOutcomeKind.Deferred, "SMTP server unreachable");
                }
                else
                {
                    try
                    {
                        transport ??= await Connect.ExecuteAsync(async token => await transports.ConnectAsync(token), ct);
                        // A digest on the wire is finished even when the worker is stopping (MailKit's timeout still bounds
                        // it): cancelled after its final "." it would be taken by the server, not recorded, and sent again.
                        var returnPath = await returnPaths.ForAsync(row.Id, ct);
                        outcome = await RetryTransient.ExecuteAsync(async _ => await transport.SendAsync(message, returnPath, CancellationToken.None), ct);
                        unreachable = 0;
                    }
                    catch (Exception ex) when (ex is TransportBrokenException or IOException or System.Net.Sockets.SocketException
                                               or MailKit.Security.AuthenticationException)
                    {
                        // The message may or may not have arrived; a broken connection is retried later like a 4xx.
                        outcome = new SendOutcome(SendOutcomeKind.Deferred, $"connection failed: {ex.Message}");
                        unreachable += transport is null ? 1 : 0;
                        if (transport is not null)
                        {
                            await transport.DisposeAsync();
                            transport = null;
                        }
                    }
                }
                var recorded = Record(row, outcome);
                // Recorded whatever happens next, shutdown included: an unrecorded 250 would be sent again. A sent outcome's
                // update runs while the next digest is built.
                await lease.RecordAsync(recorded, CancellationToken.None);
                metrics.DigestSent(DbNames.ToDb(recorded.Status), clock.GetElapsedTime(started));
                if (outcome.Kind != SendOutcomeKind.Sent)
                {
                    logger.LogWarning("Delivery {DeliveryId} to subscriber {SubscriberId}: {Outcome} ({Reply})",
                        row.Id, row.SubscriberId, recorded.Status, outcome.Reply);
                }
            }
            await lease.WrittenAsync();
        }
        finally
        {
            if (transport is not null)
            {
                await transport.DisposeAsync();
            }
        }
    }

    private RecordedOutcome Record(DeliveryWork row, SendOutcome outcome)
    {
        var now = clock.GetUtcNow();
        switch (outcome.Kind)
        {
            case SendOutcomeKind.Sent:
                return new RecordedOutcome(row.Id, DeliveryStatus.Sent, outcome.Reply, null, null, null);
            case SendOutcomeKind.Failed:
                return new RecordedOutcome(row.Id, DeliveryStatus.Failed, outcome.Reply, outcome.Reply, null, outcome.RecipientUnknown ? row.SubscriberId : null);
            default:
                var options = delivery.Value;
                if (now - row.CreatedAt >= options.RetryDeadline)
                {
                    return new RecordedOutcome(row.Id, DeliveryStatus.Failed, outcome.Reply,
                        $"still deferred after {row.Attempts + 1} attempts and {options.RetryDeadline}: {outcome.Reply}", null, null);
                }
                return new RecordedOutcome(row.Id, DeliveryStatus.Deferred, outcome.Reply, outcome.Reply, now + Backoff(row.Attempts, options.FirstRetryDelay), null);
        }
    }

    /// <summary>Exponential from the first delay, with ±20% jitter so deferred batches do not return in lockstep; at most 6 hours.</summary>
    internal static TimeSpan Backoff(int previousAttempts, TimeSpan first)
    {
        var exponential = first.TotalSeconds * Math.Pow(2, Math.Min(previousAttempts, 20));
        var jittered = exponential * (0.8 + (Random.Shared.NextDouble() * 0.4));
        return TimeSpan.FromSeconds(Math.Min(jittered, TimeSpan.FromHours(6).TotalSeconds));
    }

    /// <summary>
    /// The longest one digest can keep a running batch from writing to its lease: its turn under the rate limit, then
    /// every connect and send attempt running into the SMTP timeout.
    /// </summary>
    internal static TimeSpan LongestSend(SmtpOptions smtp)
    {
        var attempts = 1 + ConnectRetries + 1 + SendRetries;
        var turn = smtp.MaxMessagesPerSecond > 0 ? TimeSpan.FromSeconds(smtp.Connections / smtp.MaxMessagesPerSecond) : TimeSpan.Zero;
        return turn + (attempts * smtp.Timeout) + TimeSpan.FromMinutes(1);
    }

    /// <summary>How often a sending batch looks again for readers who stopped since it was read.</summary>
    internal static readonly TimeSpan StoppedReadersCheck = TimeSpan.FromSeconds(5);

    private const int ConnectRetries = 3;
    private const int SendRetries = 3;

    // A refused connection or a restarting server: a few quick tries before the row is deferred.
    private static readonly ResiliencePipeline Connect = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<IOException>().Handle<System.Net.Sockets.SocketException>()
                .Handle<MailKit.Net.Smtp.SmtpProtocolException>(),
            MaxRetryAttempts = ConnectRetries,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
        })
        .Build();

    // A 4xx is often momentary (greylisting aside): retry it briefly before deferring the row for minutes.
    private static readonly ResiliencePipeline<SendOutcome> RetryTransient = new ResiliencePipelineBuilder<SendOutcome>()
        .AddRetry(new RetryStrategyOptions<SendOutcome>
        {
            ShouldHandle = new PredicateBuilder<SendOutcome>().HandleResult(o => o.Kind == SendOutcomeKind.Deferred),
            MaxRetryAttempts = SendRetries,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(100),
        })
        .Build();
}
