using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Newsletter.Mail;

namespace Newsletter.Digests;

/// <summary>The optional per-process cap on messages per second (<c>Newsletter:Smtp:MaxMessagesPerSecond</c>).</summary>
public sealed class DigestRateLimiter : IDisposable
{
    private readonly RateLimiter? limiter;

    public DigestRateLimiter(IOptions<SmtpOptions> options)
    {
        var rate = options.Value.MaxMessagesPerSecond;
        if (rate > 0)
        {
            var perTenth = Math.Max(1, (int)Math.Ceiling(rate / 10));
            limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = perTenth,
                TokensPerPeriod = perTenth,
                ReplenishmentPeriod = TimeSpan.FromSeconds(perTenth / rate),
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                AutoReplenishment = true,
            });
        }
    }

    public async ValueTask<IDisposable> AcquireAsync(CancellationToken ct) =>
        limiter is null ? NoLease.Instance : await limiter.AcquireAsync(1, ct);

    public void Dispose() => limiter?.Dispose();

    private sealed class NoLease : IDisposable
    {
        public static readonly NoLease Instance = new();

        public void Dispose()
        {
        }
    }
}
