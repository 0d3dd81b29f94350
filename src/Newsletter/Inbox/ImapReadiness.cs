using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Newsletter.Hosting;

namespace Newsletter.Inbox;

/// <summary>/readyz: the IMAP server answers, unless the inbox is a drop folder.</summary>
internal sealed class ImapReadiness(IOptions<InboxOptions> inbox, IOptions<ImapOptions> imap) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        string.IsNullOrWhiteSpace(inbox.Value.DropFolder)
            ? ServerProbe.ConnectAsync("IMAP", imap.Value.Host!, imap.Value.Port, cancellationToken)
            : Task.FromResult(HealthCheckResult.Healthy());
}
