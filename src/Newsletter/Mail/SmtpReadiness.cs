using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Newsletter.Hosting;

namespace Newsletter.Mail;

/// <summary>/readyz: the SMTP server answers, unless mail goes to a pickup folder.</summary>
internal sealed class SmtpReadiness(IOptions<SmtpOptions> smtp) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        string.IsNullOrWhiteSpace(smtp.Value.PickupFolder)
            ? ServerProbe.ConnectAsync("SMTP", smtp.Value.Host!, smtp.Value.Port, cancellationToken)
            : Task.FromResult(HealthCheckResult.Healthy());
}
