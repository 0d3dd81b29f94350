using System.Diagnostics;

namespace Newsletter.IntegrationTests.Support;

/// <summary>Waits for a condition on state the test cannot be notified about (rows in PostgreSQL), with a deadline.</summary>
internal static class Eventually
{
    /// <summary>
    /// How long to wait for work the application does in the background (a job, a mail). Generous on purpose: in CI
    /// two shared cores run several test classes at once, each starting an application that compiles its email
    /// templates, and a wait that succeeds returns as soon as the work is done, so only a failing test pays for it.
    /// </summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Within the running test, for <see cref="DefaultTimeout"/> unless told otherwise.</summary>
    public static Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        WaitAsync(condition, timeout ?? DefaultTimeout, what, Ct);

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
