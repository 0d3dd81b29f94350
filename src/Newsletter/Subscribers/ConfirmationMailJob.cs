using System.ComponentModel;
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

    [AutomaticRetry(Attempts = 5)]
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
        SendOutcome outcome;
        await using (var transport = await transports.ConnectAsync(ct))
        {
            outcome = await transport.SendAsync(message, ct);
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
                // Hangfire retries with its backoff; the next attempt replaces this attempt's token.
                throw new InvalidOperationException($"Confirmation mail {work.Id} deferred by the server: {outcome.Reply}");
        }
    }
}
