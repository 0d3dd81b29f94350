using System.Globalization;

namespace Newsletter.Hosting;

/// <summary>Writes a 429's <c>Retry-After</c>: when the client may come back, in whole seconds, at least one.</summary>
internal static class TooManyRequests
{
    public static void SetRetryAfter(HttpResponse response, TimeSpan wait) =>
        response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
