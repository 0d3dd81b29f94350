using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Newsletter.Hosting;

/// <summary>
/// The last readiness report, kept for <see cref="Lifetime"/>: /readyz is anonymous, and each fresh report opens a
/// connection to PostgreSQL and to the mail servers. However often it is asked, the checks run once per lifetime.
/// </summary>
internal sealed class ReadinessCache(HealthCheckService health, TimeProvider clock) : IDisposable
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile Checked? _last;

    private sealed record Checked(HealthReport Report, DateTimeOffset At);

    public async Task<HealthReport> GetAsync(CancellationToken ct)
    {
        if (Fresh() is { } report)
        {
            return report;
        }
        await _refresh.WaitAsync(ct);
        try
        {
            // Whoever waited here while another request checked takes that report.
            if (Fresh() is { } checkedMeanwhile)
            {
                return checkedMeanwhile;
            }
            var checkedNow = await health.CheckHealthAsync(check => check.Tags.Contains("ready"), ct);
            _last = new Checked(checkedNow, clock.GetUtcNow());
            return checkedNow;
        }
        finally
        {
            _refresh.Release();
        }
    }

    public void Dispose() => _refresh.Dispose();

    private HealthReport? Fresh() => _last is { } last && clock.GetUtcNow() - last.At < Lifetime ? last.Report : null;
}
