using Microsoft.Extensions.Logging;
using Newsletter.Hosting;
using Newsletter.Jobs;
using HangfireLogLevel = Hangfire.Logging.LogLevel;

namespace Newsletter.Tests.Hosting;

public sealed class HangfireLogBridgeTests
{
    [Fact]
    public void Log_LatestHostStopped_GoesToTheHostStillRunningInsteadOfThrowing()
    {
        var first = new RecordingProvider();
        using var firstFactory = LoggerFactory.Create(b => b.AddProvider(first));
        using var firstAttachment = HangfireLogBridge.Attach(firstFactory);
        var second = new RecordingProvider();
        var secondFactory = LoggerFactory.Create(b => b.AddProvider(second));
        var secondAttachment = HangfireLogBridge.Attach(secondFactory);
        var log = HangfireLogBridge.Instance.GetLogger("Hangfire.Server.Worker");

        Assert.True(log.Log(HangfireLogLevel.Warn, () => "while both run"));
        secondAttachment.Dispose();
        secondFactory.Dispose();
        Assert.True(log.Log(HangfireLogLevel.Error, () => "after the second stopped", new InvalidOperationException("job failed")));

        Assert.Equal(["Warning: while both run"], second.Messages);
        Assert.Equal(["Error: after the second stopped (job failed)"], first.Messages);
    }

    private sealed class RecordingProvider : ILoggerProvider, ILogger
    {
        public List<string> Messages { get; } = [];

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Messages)
            {
                Messages.Add($"{logLevel}: {formatter(state, exception)}" + (exception is null ? "" : $" ({exception.Message})"));
            }
        }

        public void Dispose()
        {
        }
    }
}
