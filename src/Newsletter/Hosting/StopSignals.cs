using System.Runtime.InteropServices;

namespace Newsletter.Hosting;

/// <summary>
/// Ctrl+C, SIGTERM and SIGQUIT as a cancellation for as long as this lives, so the process stops what it does and
/// cleans up instead of ending at once: the runtime's default when nothing handles the signal, as before the web host
/// starts and after it has stopped (while the embedded database is stopped).
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly PosixSignalRegistration[] _registrations;

    /// <param name="stopping">Also cancels <see cref="Token"/>.</param>
    public StopSignals(CancellationToken stopping)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _registrations = [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT }
            .Select(signal => PosixSignalRegistration.Create(signal, OnSignal))];
    }

    /// <summary>Cancelled by the first stop signal.</summary>
    public CancellationToken Token => _stop.Token;

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        try
        {
            // Off the signal thread: what the cancellation runs (the host's stop) may take a while.
            _ = _stop.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // A signal while this is disposed: the process is about to end anyway.
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
        _stop.Dispose();
    }
}
