using System.Globalization;

namespace Newsletter.Hosting;

/// <summary>A 429 and its <c>Retry-After</c>: when the client may come back, in whole seconds, at least one.</summary>
internal static class TooManyRequests
{
    public static void SetRetryAfter(HttpResponse response, TimeSpan wait) =>
        response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>A page that did nothing because a limit holds until <paramref name="until"/>: 429, and when to come back.</summary>
    public static void Answer(HttpResponse response, DateTimeOffset until, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(clock);
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        SetRetryAfter(response, until - clock.GetUtcNow());
    }
}
