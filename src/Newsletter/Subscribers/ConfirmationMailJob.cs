using System.ComponentModel;
using System.Net.Sockets;
using Hangfire;
using Microsoft.Extensions.Options;
using Newsletter.Hosting;
using Newsletter.Mail;

namespace Newsletter.Subscribers;

/// <summary>
/// Sends one confirmation mail the subscribe form asked for, outside the request so a slow SMTP server never holds a
/// page. Re-entrant: the ledger row says whether it went out. A pending address gets a confirmation link that
/// expires; an active or paused one a manage link instead, which expires alike; anyone else nothing. The link is minted here, so the raw
/// token never sits in the job's arguments.
/// </summary>
public sealed class ConfirmationMailJob(
    ConfirmationMails mails,
    ConfirmationMailRenderer renderer,
    IDigestTransportFactory transports,
    IOptions<SiteOptions> site,
    IOptions<ConfirmationOptions> options,
    TimeProvider clock,
    ILogger<ConfirmationMailJob> logger)
{
    public static void Queue(IBackgroundJobClient jobs, long mailId) =>
        jobs.Enqueue<ConfirmationMailJob>(job => job.RunAsync(mailId, CancellationToken.None));

    /// <summary>
    /// A mail the server still defers this long after the job first tried it is recorded failed. Hangfire's retries come
    /// 0.5, 1.5, 3.5, 8.5 and 18.5 minutes after the first attempt, so the last always is past it: the row never stays
    /// "being sent" after the job gave up, and a mail first tried late (the worker was down) still gets its retries.
    /// </summary>
    internal static readonly TimeSpan RetryDeadline = TimeSpan.FromMinutes(15);

    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [30, 60, 120, 300, 600])]
    [DisplayName("Confirmation mail {0}")]
    public async Task RunAsync(long mailId, CancellationToken ct)
    {
        var work = await mails.GetAsync(mailId, ct);
        if (work is not { MailStatus: ConfirmationMailStatus.Pending })
        {
            return;
        }

        var lifetime = options.Value.ConfirmationLinkLifetime;
        ConfirmationMailView view;
        switch (work.SubscriberStatus)
        {
            case SubscriberStatus.Pending:
                var confirm = await mails.MintTokenAsync(work.Id, work.SubscriberId, TokenPurpose.Confirm, clock.GetUtcNow() + lifetime, ct);
                view = new ConfirmationMailView(work.Email, site.Value.Link($"confirm/{confirm}"), false, (int)lifetime.TotalHours);
                break;
            case SubscriberStatus.Active or SubscriberStatus.Paused:
                // Anyone may type the address into the form, again and again: the link each mail brings expires as a confirmation's does.
                var manage = await mails.MintTokenAsync(work.Id, work.SubscriberId, TokenPurpose.Manage, clock.GetUtcNow() + lifetime, ct);
                view = new ConfirmationMailView(work.Email, site.Value.Link($"manage/{manage}"), true, (int)lifetime.TotalHours);
                break;
            default:
                await mails.FinishAsync(work.Id, ConfirmationMailStatus.Skipped, $"subscriber is {work.SubscriberStatus}", ct);
                return;
        }

        var message = await renderer.ComposeAsync(view);
        var firstAttempt = await mails.StartAttemptAsync(work.Id, ct);
        SendOutcome outcome;
        try
        {
            await using var transport = await transports.ConnectAsync(ct);
            outcome = await transport.SendAsync(message, ct);
        }
        catch (Exception ex) when (ex is IOException or TransportBrokenException or SocketException or MailKit.Security.AuthenticationException)
        {
            outcome = new SendOutcome(SendOutcomeKind.Deferred, $"connection failed: {ex.Message}");
        }

        switch (outcome.Kind)
        {
            case SendOutcomeKind.Sent:
                await mails.FinishAsync(work.Id, ConfirmationMailStatus.Sent, outcome.Reply, ct);
                logger.LogInformation("Confirmation mail {MailId} to subscriber {SubscriberId} sent", work.Id, work.SubscriberId);
                break;
            case SendOutcomeKind.Failed:
                logger.LogWarning("Confirmation mail {MailId} refused for good: {Reply}", work.Id, outcome.Reply);
                await mails.FinishAsync(work.Id, ConfirmationMailStatus.Failed, outcome.Reply, ct);
                break;
            default:
                if (clock.GetUtcNow() - firstAttempt >= RetryDeadline)
                {
                    logger.LogWarning("Confirmation mail {MailId} still deferred after {Deadline}: {Reply}", work.Id, RetryDeadline, outcome.Reply);
                    await mails.FinishAsync(work.Id, ConfirmationMailStatus.Failed, $"still deferred after {RetryDeadline.TotalMinutes:0} minutes: {outcome.Reply}", ct);
                    return;
                }
                // Hangfire retries with its backoff; the next attempt replaces this attempt's token.
                throw new InvalidOperationException($"Confirmation mail {work.Id} deferred by the server: {outcome.Reply}");
        }
    }
}
