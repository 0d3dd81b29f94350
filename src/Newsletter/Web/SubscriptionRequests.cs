using Hangfire;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers;

namespace Newsletter.Web;

/// <summary>
/// Double opt-in, the one way onto the list from the public pages: the subscribe form, and "subscribe again" for an
/// address that unsubscribed or bounced. A digest's links may be in anyone's hands (digests get forwarded), so the
/// address becomes pending and only the confirmation mail to it brings it back.
/// </summary>
public sealed class SubscriptionRequests(SubscriberStore subscribers, ConfirmationMails mails, IBackgroundJobClient jobs, IOptions<WebOptions> options)
{
    /// <summary>Makes the address pending (an active or paused one stays as it is) and queues its mail, within the hourly limit.</summary>
    /// <exception cref="ArgumentException">The address is not valid.</exception>
    /// <exception cref="InterestSyntaxException">The interests are not valid.</exception>
    public async Task RequestAsync(string email, string? interests, DigestFormat format, CancellationToken ct)
    {
        var subscriberId = await subscribers.RequestAsync(email, interests, format, ct);
        if (await mails.TryRequestAsync(subscriberId, options.Value.ConfirmationMailsPerHour, ct) is { } mailId)
        {
            ConfirmationMailJob.Queue(jobs, mailId);
        }
    }
}
