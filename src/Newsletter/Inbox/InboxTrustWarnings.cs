using Microsoft.Extensions.Options;

namespace Newsletter.Inbox;

/// <summary>
/// Where the sender configuration lets anyone pose as a listing's sender: an allowed sender whose domain no
/// <c>RequireDkimFor</c> entry covers, since the From header alone proves nothing. Logged at start and shown in the
/// admin area.
/// </summary>
public sealed class InboxTrustWarnings(IOptions<InboxOptions> options)
{
    public IReadOnlyList<string> Warnings { get; } = Find(options.Value);

    internal static List<string> Find(InboxOptions options)
    {
        var warnings = new List<string>();
        foreach (var sender in options.AllowedSenders)
        {
            var pattern = sender.Trim().ToLowerInvariant();
            var domain = pattern[(pattern.LastIndexOf('@') + 1)..];
            if (!options.RequireDkimFor.Any(required => SenderPolicy.DomainMatches(domain, required.Trim().ToLowerInvariant())))
            {
                warnings.Add($"{InboxOptions.Section}:AllowedSenders has '{sender}', but {InboxOptions.Section}:RequireDkimFor does not cover {domain}: "
                    + "anyone can forge its From header, and the forgery becomes an issue sent to every subscriber.");
            }
        }

        return warnings;
    }
}

/// <summary>Logs the <see cref="InboxTrustWarnings"/> once as the application starts.</summary>
internal sealed class InboxTrustWarningLog(InboxTrustWarnings trust, ILogger<InboxTrustWarnings> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var warning in trust.Warnings)
        {
            logger.LogWarning("Sender trust: {Warning}", warning);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
