using System.Diagnostics.Metrics;

namespace Newsletter.Hosting;

/// <summary>
/// The numbers an operator watches, as System.Diagnostics.Metrics instruments on the meter "Newsletter": read them
/// with `dotnet-counters monitor -p PID --counters Newsletter` (no OpenTelemetry exporter is included).
/// </summary>
public sealed class NewsletterMetrics : IDisposable
{
    public const string MeterName = "Newsletter";

    private readonly Meter meter;
    private readonly Counter<long> ingested;
    private readonly Counter<long> quarantined;
    private readonly Counter<long> digests;
    private readonly Histogram<double> sendLatency;
    private readonly Histogram<double> ingestionLag;

    public NewsletterMetrics(IMeterFactory meters)
    {
        meter = meters.Create(MeterName);
        ingested = meter.CreateCounter<long>("newsletter.messages.ingested", "{message}", "Inbound messages that became an issue.");
        quarantined = meter.CreateCounter<long>("newsletter.messages.quarantined", "{message}", "Inbound messages set aside, with a reason.");
        digests = meter.CreateCounter<long>("newsletter.digests", "{digest}", "Digest send outcomes, by outcome: sent, deferred, failed.");
        sendLatency = meter.CreateHistogram<double>("newsletter.digests.send_duration", "ms", "Time the SMTP server took to accept one digest.");
        ingestionLag = meter.CreateHistogram<double>("newsletter.messages.ingestion_lag", "s", "From the listing's Date header to its issue being stored.");
    }

    public void MessageIngested(TimeSpan lag)
    {
        ingested.Add(1);
        ingestionLag.Record(Math.Max(0, lag.TotalSeconds));
    }

    public void MessageQuarantined() => quarantined.Add(1);

    public void DigestSent(string outcome, TimeSpan duration)
    {
        digests.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        sendLatency.Record(duration.TotalMilliseconds);
    }

    public void Dispose() => meter.Dispose();
}
