using System.Buffers;
using System.Collections.Concurrent;
using MimeKit;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Newsletter.IntegrationTests.Infrastructure;

/// <summary>Where in the SMTP transaction an injected failure is answered.</summary>
public enum SmtpStage
{
    /// <summary>The reply to MAIL FROM: nothing was sent yet.</summary>
    MailFrom,

    /// <summary>The reply after the final "." of DATA: the whole message was transferred, then refused.</summary>
    Data,
}

/// <summary>A message the server accepted: envelope and the raw bytes as received.</summary>
public sealed record CapturedMessage(string From, IReadOnlyList<string> Recipients, byte[] Raw)
{
    public MimeMessage Parse()
    {
        using var stream = new MemoryStream(Raw, writable: false);
        return MimeMessage.Load(stream);
    }
}

/// <summary>
/// A real SMTP server (the SmtpServer package) on a free loopback port that keeps every message it accepts,
/// with fault injection: transient failures for the next attempts and rejected recipients.
/// <code>await using var smtp = await SmtpCapture.StartAsync(); ... await smtp.WaitForMessagesAsync(3);</code>
/// </summary>
public sealed class SmtpCapture : IAsyncDisposable
{
    public static readonly TimeSpan DefaultWaitTimeout = Support.Eventually.DefaultTimeout;

    readonly Lock _lock = new();
    readonly List<CapturedMessage> _received = [];
    readonly List<(int Count, TaskCompletionSource Arrived)> _waiters = [];
    readonly ConcurrentDictionary<string, SmtpResponse> _rejectedRecipients = new(StringComparer.OrdinalIgnoreCase);
    (int Remaining, SmtpResponse Response, SmtpStage Stage) _failures;
    SmtpHold? _hold;
    LoopbackSmtpServer? _server;

    SmtpCapture()
    {
    }

    public string Host { get; } = "127.0.0.1";

    public int Port => _server!.Port;

    /// <summary>The messages accepted so far, in order of arrival.</summary>
    public IReadOnlyList<CapturedMessage> Received
    {
        get
        {
            lock (_lock)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>The messages accepted so far, parsed.</summary>
    public IReadOnlyList<MimeMessage> Messages => [.. Received.Select(m => m.Parse())];

    public static Task<SmtpCapture> StartAsync(CancellationToken cancellationToken = default) => StartAsync(smtpUtf8: true, cancellationToken);

    /// <param name="smtpUtf8">Whether EHLO offers SMTPUTF8 (RFC 6531), as the package does; off, as a relay that cannot take
    /// an address with a non-ASCII local part.</param>
    public static async Task<SmtpCapture> StartAsync(bool smtpUtf8, CancellationToken cancellationToken = default)
    {
        var capture = new SmtpCapture();
        capture._server = await LoopbackSmtpServer.StartAsync("smtp-capture.test", services =>
            {
                services.Add(new Store(capture));
                services.Add(new Filter(capture));
                if (!smtpUtf8)
                {
                    services.Add(new WithoutSmtpUtf8());
                }
            },
            // Each refused command counts as a retry and the session ends when they run out; injected faults must not.
            options: o => o.MaxRetryCount(int.MaxValue),
            cancellationToken: cancellationToken);
        return capture;
    }

    /// <summary>Answers <paramref name="code"/> (transient by default) to the next <paramref name="count"/> transactions.</summary>
    public void FailNextAttempts(int count, int code = 451, SmtpStage stage = SmtpStage.Data, string text = "4.3.0 Try again later (injected)")
    {
        lock (_lock)
        {
            _failures = (count, new SmtpResponse((SmtpReplyCode)code, text), stage);
        }
    }

    /// <summary>Keeps the next message after its final "." unanswered until <see cref="SmtpHold.Release"/>: the sender waits
    /// for the reply meanwhile.</summary>
    public SmtpHold HoldNextMessage()
    {
        var hold = new SmtpHold();
        lock (_lock)
        {
            _hold = hold;
        }

        return hold;
    }

    /// <summary>Answers <paramref name="code"/> to RCPT TO for this address from now on.</summary>
    public void RejectRecipient(string address, int code = 550, string text = "5.1.1 Mailbox unavailable (injected)") =>
        _rejectedRecipients[address] = new SmtpResponse((SmtpReplyCode)code, text);

    /// <summary>Completes once at least <paramref name="count"/> messages were accepted; throws <see cref="TimeoutException"/> otherwise.</summary>
    public async Task<IReadOnlyList<CapturedMessage>> WaitForMessagesAsync(int count, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        TaskCompletionSource arrived;
        lock (_lock)
        {
            if (_received.Count >= count)
            {
                return [.. _received];
            }

            arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, arrived));
        }

        try
        {
            await arrived.Task.WaitAsync(timeout ?? DefaultWaitTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"expected {count} messages, received {Received.Count} within {timeout ?? DefaultWaitTimeout}");
        }

        return Received;
    }

    public ValueTask DisposeAsync() => _server?.DisposeAsync() ?? ValueTask.CompletedTask;

    SmtpResponse? TakeFailure(SmtpStage stage)
    {
        lock (_lock)
        {
            if (_failures.Remaining <= 0 || _failures.Stage != stage)
            {
                return null;
            }

            _failures.Remaining--;
            return _failures.Response;
        }
    }

    SmtpHold? TakeHold()
    {
        lock (_lock)
        {
            var hold = _hold;
            _hold = null;
            return hold;
        }
    }

    void Add(CapturedMessage message)
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

    sealed class Store(SmtpCapture capture) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            if (capture.TakeFailure(SmtpStage.Data) is { } failure)
            {
                return failure;
            }

            var message = new CapturedMessage(transaction.From.AsAddress(), [.. transaction.To.Select(m => m.AsAddress())], buffer.ToArray());
            if (capture.TakeHold() is { } hold)
            {
                await hold.HoldAsync(message, cancellationToken);
            }

            capture.Add(message);
            return SmtpResponse.Ok;
        }
    }

    sealed class WithoutSmtpUtf8 : SmtpCommandFactory
    {
        public override SmtpCommand CreateEhlo(string domainOrAddress) => new Ehlo(domainOrAddress);

        sealed class Ehlo(string domainOrAddress) : EhloCommand(domainOrAddress)
        {
            protected override IEnumerable<string> GetExtensions(ISessionContext context) =>
                base.GetExtensions(context).Where(extension => !extension.Equals("SMTPUTF8", StringComparison.OrdinalIgnoreCase));
        }
    }

    sealed class Filter(SmtpCapture capture) : IMailboxFilter
    {
        public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken) =>
            capture.TakeFailure(SmtpStage.MailFrom) is { } failure ? throw new SmtpResponseException(failure) : Task.FromResult(true);

        public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken) =>
            capture._rejectedRecipients.TryGetValue(to.AsAddress(), out var response) ? throw new SmtpResponseException(response) : Task.FromResult(true);
    }
}

/// <summary>A message held by <see cref="SmtpCapture.HoldNextMessage"/>: the server has it and has not answered yet.</summary>
public sealed class SmtpHold
{
    readonly TaskCompletionSource<CapturedMessage> _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the message once it is held.</summary>
    public Task<CapturedMessage> Arrived => _arrived.Task;

    /// <summary>Lets the server accept the held message.</summary>
    public void Release() => _released.TrySetResult();

    internal async Task HoldAsync(CapturedMessage message, CancellationToken cancellationToken)
    {
        _arrived.TrySetResult(message);
        await _released.Task.WaitAsync(cancellationToken);
    }
}
