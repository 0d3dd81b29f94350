using System.Buffers;
using System.Net;
using MimeKit;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Newsletter.Relevance.Service;

/// <summary>
/// A real SMTP server (the SmtpServer package) on a free loopback port that keeps every message it accepts: where
/// the replayed service sends its digests.
/// </summary>
public sealed class MailCapture : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly List<MimeMessage> _received = [];
    private readonly List<(int Count, TaskCompletionSource Arrived)> _waiters = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;

    private MailCapture()
    {
    }

    public int Port { get; private set; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _received.Count;
            }
        }
    }

    public static async Task<MailCapture> StartAsync(CancellationToken ct)
    {
        var capture = new MailCapture();
        var options = new SmtpServerOptionsBuilder()
            .ServerName("relevance-replay.test")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, 0)))
            .Build();
        // Port 0: the OS picks a free port; the listener factory tells us which, once it listens.
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listeners = new EndpointListenerFactory();
        listeners.EndpointStarted += (_, e) => listening.TrySetResult(((IPEndPoint)e.LocalEndPoint).Port);
        var provider = new ServiceProvider();
        provider.Add(listeners);
        provider.Add(new Store(capture));
        capture._running = new SmtpServer.SmtpServer(options, provider).StartAsync(capture._stop.Token);
        try
        {
            capture.Port = await listening.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
        }
        catch
        {
            await capture.DisposeAsync();
            throw;
        }
        return capture;
    }

    /// <summary>The messages from number <paramref name="from"/> on, once at least <paramref name="count"/> arrived in all.</summary>
    public async Task<IReadOnlyList<MimeMessage>> WaitForAsync(int count, int from, TimeSpan timeout, CancellationToken ct)
    {
        TaskCompletionSource arrived;
        lock (_lock)
        {
            if (_received.Count >= count)
            {
                return _received[from..];
            }
            arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, arrived));
        }
        try
        {
            await arrived.Task.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"expected {count} digests in all, received {Count} within {timeout}");
        }
        lock (_lock)
        {
            return _received[from..];
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
            // The way SmtpServer reports a requested stop.
        }
        _stop.Dispose();
    }

    private void Add(MimeMessage message)
    {
        lock (_lock)
        {
            _received.Add(message);
            foreach (var waiter in _waiters.Where(w => _received.Count >= w.Count).ToList())
            {
                waiter.Arrived.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    private sealed class Store(MailCapture capture) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray(), writable: false);
            capture.Add(MimeMessage.Load(stream, cancellationToken));
            return Task.FromResult(SmtpResponse.Ok);
        }
    }
}
