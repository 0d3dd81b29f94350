using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Newsletter.Digests;
using Xunit;
using Newsletter.Mail;

namespace Newsletter.Tests.Digests;

public sealed class DigestTemplateWarmUpTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"newsletter-templates-{Guid.NewGuid():N}");

    [Fact]
    public async Task WorkerStarts_CustomTemplateDoesNotCompile_ErrorLoggedAtStart()
    {
        var ct = TestContext.Current.CancellationToken;
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "templates"), "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_root, Path.GetRelativePath(Path.Combine(AppContext.BaseDirectory, "templates"), file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        // An operator's edit with a syntax error in the paper block.
        await File.AppendAllTextAsync(Path.Combine(_root, "Digest", "Paper.html.cshtml"), "@{ var broken = ; }\n", ct);
        var templates = new EmailTemplates(Options.Create(new TemplateOptions { Root = _root }), NullLogger<EmailTemplates>.Instance);
        using var renderer = new DigestRenderer(templates);
        var logger = new ListLogger();
        using var warmUp = new DigestTemplateWarmUp(renderer, logger);

        await warmUp.StartAsync(ct);
        await warmUp.ExecuteTask!.WaitAsync(ct);

        var entry = Assert.Single(logger.Entries, e => e.Level == LogLevel.Error);
        Assert.Contains("no digest can be sent", entry.Message, StringComparison.Ordinal);
        Assert.Contains("Paper.html", entry.Exception!.ToString(), StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private sealed class ListLogger : ILogger<DigestTemplateWarmUp>
    {
        public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Entries)
            {
                Entries.Add((logLevel, formatter(state, exception), exception));
            }
        }
    }
}
