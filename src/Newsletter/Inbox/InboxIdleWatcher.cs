using Hangfire;
using MailKit;
using MailKit.Net.Imap;
using Microsoft.Extensions.Options;
using Newsletter.Hosting;

namespace Newsletter.Inbox;

/// <summary>
/// Keeps an IMAP IDLE connection open and starts a poll as soon as new mail arrives, instead of waiting for the next
/// scheduled one. IDLE is restarted before <see cref="ImapOptions.IdleRestart"/> (servers and NAT boxes drop quiet
/// connections); a server without IDLE is simply polled on schedule. Runs in worker processes only.
/// </summary>
public sealed class InboxIdleWatcher(
    IOptions<InboxOptions> inbox,
    IOptions<ImapOptions> imap,
    IRecurringJobManager recurring,
    ILogger<InboxIdleWatcher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!string.IsNullOrWhiteSpace(inbox.Value.DropFolder))
        {
            return;
        }
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!await WatchAsync(stoppingToken))
                {
                    return;
                }
                failures = 0;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Cancelling a MailKit command drops the connection, and servers restart: reconnect with backoff.
                failures++;
                var wait = TimeSpan.FromSeconds(Math.Min(300, Math.Pow(2, Math.Min(failures, 9))));
                logger.LogWarning(ex, "IMAP IDLE connection lost; reconnecting in {Wait}", wait);
                await Task.Delay(wait, stoppingToken);
            }
        }
    }

    /// <returns>False when the server has no IDLE.</returns>
    private async Task<bool> WatchAsync(CancellationToken stoppingToken)
    {
        var options = imap.Value;
        using var client = new ImapClient { Timeout = (int)options.Timeout.TotalMilliseconds };
        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
        {
            connect.CancelAfter(options.Timeout);
            await client.ConnectAsync(options.Host!, options.Port, options.Security, connect.Token);
            await client.AuthenticateAsync(options.Username!, options.Password!, connect.Token);
        }
        if (!client.Capabilities.HasFlag(ImapCapabilities.Idle))
        {
            logger.LogInformation("The IMAP server has no IDLE; the inbox is polled every {Interval}", inbox.Value.PollInterval);
            await client.DisconnectAsync(true, stoppingToken);
            return false;
        }

        var folder = await client.GetFolderAsync(options.Folder, stoppingToken);
        await folder.OpenAsync(FolderAccess.ReadOnly, stoppingToken);
        var known = folder.Count;
        var newMail = 0;
        CancellationTokenSource? idle = null;
        // Raised while MailKit reads the server's responses, on this same flow: inside IDLE or the NOOP below.
        // MailKit lowers Count on EXPUNGE without raising CountChanged: without this, the message a poll moves away
        // stays counted, and the next listing's EXISTS (the count back where it was) looks like no new mail.
        folder.MessageExpunged += (_, _) => known--;
        folder.CountChanged += (_, _) =>
        {
            if (folder.Count > known)
            {
                newMail = 1;
                idle?.Cancel(); // Leave IDLE to act; the poll runs as a job and moves the mail away.
            }
            known = folder.Count;
        };

        // Mail may have arrived before IDLE started: one poll now covers it.
        recurring.Trigger(InboxPoller.RecurringJobId);
        while (!stoppingToken.IsCancellationRequested)
        {
            // NOOP delivers pending untagged responses (EXISTS) and keeps the session fresh between IDLEs.
            await client.NoOpAsync(stoppingToken);
            if (newMail == 0)
            {
                using (idle = new CancellationTokenSource(options.IdleRestart))
                {
                    await client.IdleAsync(idle.Token, stoppingToken);
                }
                idle = null;
            }
            if (Interlocked.Exchange(ref newMail, 0) == 1)
            {
                recurring.Trigger(InboxPoller.RecurringJobId);
            }
        }
        await client.DisconnectAsync(true, CancellationToken.None);
        return true;
    }
}
