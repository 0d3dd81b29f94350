using Hangfire;
using Microsoft.Extensions.Options;
using Newsletter.Subscribers;

namespace Newsletter.Web;

/// <summary>
/// Double opt-in, the one way onto the list from the public pages: the subscribe form, and "subscribe again" for an
/// address that unsubscribed or bounced. A digest's links may be in anyone's hands (digests get forwarded), so the
/// address becomes pending and only the confirmation mail to it brings it back.
/// </summary>
public sealed class SubscriptionRequests(
    SubscriberStore subscribers, ConfirmationMails mails, IBackgroundJobClient jobs, IOptions<WebOptions> options, TimeProvider clock)
{
    /// <summary>Makes the address pending (an active or paused one stays as it is) and queues its mail, within the hourly limit.</summary>
    /// <returns>Null when a mail was queued; otherwise when the address may have another (the hour's mails went).</returns>
    /// <exception cref="ArgumentException">The address is not valid.</exception>
    /// <exception cref="InterestSyntaxException">The interests are not valid.</exception>
    public async Task<DateTimeOffset?> RequestAsync(string email, string? interests, DigestFormat format, CancellationToken ct)
    {
        var subscriberId = await subscribers.RequestAsync(email, interests, format, ct);
        var perHour = options.Value.ConfirmationMailsPerHour;
        if (await mails.TryRequestAsync(subscriberId, perHour, ct) is { } mailId)
        {
            ConfirmationMailJob.Queue(jobs, mailId);
            return null;
        }
        return await mails.LimitEndsAtAsync(subscriberId, perHour, ct) ?? clock.GetUtcNow();
    }

    /// <summary>"Too many mails went to … this hour: nothing was sent. Try again after 09:20 (UTC)."</summary>
    public static string OverLimit(string who, DateTimeOffset until, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        return $"Too many mails went to {who} this hour: nothing was sent. Try again after {Time(until, zone)}.";
    }

    /// <summary>
    /// "Subscribe again" on a page of the reader's own link, which may say what happened: a stopped or still unconfirmed
    /// address gets a fresh confirmation mail, unless the hour's mails are spent (then nothing changes); pressed again,
    /// no second mail.
    /// </summary>
    /// <returns>Null when a mail was queued; otherwise what the page tells the reader instead.</returns>
    public async Task<NoMailSent?> SubscribeAgainAsync(Subscriber subscriber, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        var email = subscriber.Email;
        if (subscriber.Status is SubscriberStatus.Active or SubscriberStatus.Paused)
        {
            return new NoMailSent($"{email} is subscribed already: there is nothing to confirm.", null);
        }

        var zone = ReaderChoices.ZoneOrServer((await subscribers.GetChoicesAsync(subscriber.Id, ct)).TimeZone, clock.LocalTimeZone);
        // Pressed again within the hour: the mail asked for then is said to be sent only once it was; a refused one is sent again.
        if (subscriber.Status == SubscriberStatus.Pending && await mails.LatestAsync(subscriber.Id, ct) is { } latest
            && latest.At > clock.GetUtcNow() - TimeSpan.FromHours(1))
        {
            switch (latest.Status)
            {
                case ConfirmationMailStatus.Sent:
                    return new NoMailSent($"We sent a confirmation link to {email} at {Time(latest.At, zone)}: open it to start your digests again. Nothing arrived? Look in your spam folder.", null);
                case ConfirmationMailStatus.Pending:
                    return new NoMailSent($"A confirmation link to {email}, asked for at {Time(latest.At, zone)}, is being sent: open it when it arrives to start your digests again.", null);
            }
        }

        // Over the limit a stopped address stays as it is: made pending, it would lose its "Subscribe again" button.
        var limitEnds = await mails.LimitEndsAtAsync(subscriber.Id, options.Value.ConfirmationMailsPerHour, ct)
            ?? await RequestAsync(email, subscriber.Interests, subscriber.Format, ct);
        return limitEnds is { } until ? new NoMailSent(OverLimit(email, until, zone), until) : null;
    }

    private static string Time(DateTimeOffset at, TimeZoneInfo zone) => $"{TimeZoneInfo.ConvertTime(at, zone):HH:mm} ({zone.Id})";
}

/// <summary>Why "subscribe again" sent no mail: what the page says, and when the hourly limit lets another go (null: not the limit).</summary>
public sealed record NoMailSent(string Notice, DateTimeOffset? LimitEndsAt);
