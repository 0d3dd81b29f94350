using System.Diagnostics;

namespace Newsletter.IntegrationTests.Support;

/// <summary>Waits for a condition on state the test cannot be notified about (rows in PostgreSQL), with a deadline.</summary>
internal static class Eventually
{
    public static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Gave up after {timeout.TotalSeconds:N0} s waiting for {what}.");
            }
            await tick.WaitForNextTickAsync(ct);
        }
    }
}
