using HangfireLogLevel = Hangfire.Logging.LogLevel;
using IHangfireLog = Hangfire.Logging.ILog;
using IHangfireLogProvider = Hangfire.Logging.ILogProvider;

namespace Newsletter.Jobs;

/// <summary>
/// Hangfire logs through one process-wide provider, and creates loggers whenever it likes (one per fetched job). Bound
/// to one host's <see cref="ILoggerFactory"/>, as Hangfire binds it, every later host's workers throw
/// ObjectDisposedException and back off once that host has stopped: the tests and the benchmarks run many hosts in one
/// process. This provider logs through the most recently attached host that is still alive, and drops the message
/// when there is none.
/// </summary>
internal sealed class HangfireLogBridge : IHangfireLogProvider
{
    public static readonly HangfireLogBridge Instance = new();

    private static readonly Lock Gate = new();
    private static readonly List<ILoggerFactory> Attached = [];

    private HangfireLogBridge()
    {
    }

    /// <summary>Logs through <paramref name="factory"/> until the returned handle is disposed (with its service provider).</summary>
    public static Attachment Attach(ILoggerFactory factory)
    {
        lock (Gate)
        {
            Attached.Add(factory);
        }
        return new Attachment(factory);
    }

    public IHangfireLog GetLogger(string name) => new BridgedLog(name);

    private static ILoggerFactory? Current
    {
        get
        {
            lock (Gate)
            {
                return Attached.Count == 0 ? null : Attached[^1];
            }
        }
    }

    /// <summary>A host's factory in use; registered as a singleton, so disposed with its service provider.</summary>
    internal sealed class Attachment(ILoggerFactory factory) : IDisposable
    {
        public void Dispose()
        {
            lock (Gate)
            {
                Attached.Remove(factory);
            }
        }
    }

    private sealed class BridgedLog(string name) : IHangfireLog
    {
        private volatile Bound? _bound;

        public bool Log(HangfireLogLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            if (Current is not { } factory)
            {
                return false;
            }

            var bound = _bound;
            if (bound is null || !ReferenceEquals(bound.Factory, factory))
            {
                try
                {
                    _bound = bound = new Bound(factory, factory.CreateLogger(name));
                }
                catch (ObjectDisposedException)
                {
                    return false; // Stopped between the lookup and now.
                }
            }
            var logger = bound.Logger;

            var level = logLevel switch
            {
                HangfireLogLevel.Trace => LogLevel.Trace,
                HangfireLogLevel.Debug => LogLevel.Debug,
                HangfireLogLevel.Info => LogLevel.Information,
                HangfireLogLevel.Warn => LogLevel.Warning,
                HangfireLogLevel.Error => LogLevel.Error,
                _ => LogLevel.Critical,
            };
            if (!logger.IsEnabled(level))
            {
                return false;
            }
            if (messageFunc is null)
            {
                return true; // Hangfire asks whether a level is enabled by passing no message.
            }
            logger.Log(level, 0, messageFunc(), exception, static (message, _) => message);
            return true;
        }

        private sealed record Bound(ILoggerFactory Factory, ILogger Logger);
    }
}
