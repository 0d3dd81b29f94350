using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Newsletter.Digests;
using Newsletter.Mail;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Mail;

/// <summary>
/// A worker's templates are compiled by a child process (<c>newsletter compile-templates</c>), so the worker never
/// holds the compiler: the real child, as the worker starts it.
/// </summary>
public sealed class TemplateCompilerProcessTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"newsletter-templates-{Guid.NewGuid():N}");

    [Fact]
    public async Task Render_StockTemplates_ChildCompiledThemAndThisProcessNone()
    {
        var options = Options.Create(new TemplateOptions());
        var templates = WithChild(options);
        var inProcess = new EmailTemplates(options, NullLogger<EmailTemplates>.Instance);
        var view = new ConfirmationMailView("ada@example.org", "https://papers.lab.example.org/confirm/tok<&>", false, 48);

        var html = await templates.RenderAsync(ConfirmationMailRenderer.HtmlKey, view);

        Assert.Equal(await inProcess.RenderAsync(ConfirmationMailRenderer.HtmlKey, view), html);
        Assert.Contains("https://papers.lab.example.org/confirm/tok&lt;&amp;&gt;", html, StringComparison.Ordinal);
        Assert.Equal(0, templates.CompiledHere);
    }

    [Fact]
    public async Task WorkerStarts_CustomTemplateDoesNotCompile_ChildNamesItAndThisProcessCompilesNothing()
    {
        CopyStockTemplatesTo(_root);
        // An operator's edit with a syntax error in the paper block.
        await File.AppendAllTextAsync(Path.Combine(_root, "Digest", "Paper.html.cshtml"), "@{ var broken = ; }\n", Ct);
        var templates = WithChild(Options.Create(new TemplateOptions { Root = _root }));
        using var renderer = new DigestRenderer(templates);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => renderer.WarmUpAsync(Ct));

        Assert.Contains("Template Digest/Paper.html does not compile", error.Message, StringComparison.Ordinal);
        Assert.Contains("Invalid expression term", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, templates.CompiledHere);
    }

    [Fact]
    public async Task Render_HostsInOneProcess_ShareTheChildsCompileUntilATemplateChanges()
    {
        CopyStockTemplatesTo(_root);
        var options = Options.Create(new TemplateOptions { Root = _root });
        var view = new ConfirmationMailView("ada@example.org", "https://papers.lab.example.org/confirm/tok", false, 48);
        var first = new FakeLogger<TemplateCompilerProcess>();
        var second = new FakeLogger<TemplateCompilerProcess>();
        var afterEdit = new FakeLogger<TemplateCompilerProcess>();

        var firstText = await Templates(options, first).RenderAsync(ConfirmationMailRenderer.TextKey, view);
        var secondHost = Templates(options, second);
        var secondText = await secondHost.RenderAsync(ConfirmationMailRenderer.TextKey, view);
        // An operator edits a template; a host built after that must not get the old compile.
        await File.AppendAllTextAsync(Path.Combine(_root, "Confirm", "Confirm.text.cshtml"), "Edited after the first compile.\n", Ct);
        var editedText = await Templates(options, afterEdit).RenderAsync(ConfirmationMailRenderer.TextKey, view);

        Assert.Contains("templates compiled by process", Assert.Single(first.Collector.GetSnapshot()).Message, StringComparison.Ordinal);
        Assert.Contains("compiled them earlier in this process", Assert.Single(second.Collector.GetSnapshot()).Message, StringComparison.Ordinal);
        Assert.Equal(firstText, secondText);
        Assert.Equal(0, secondHost.CompiledHere);
        Assert.Contains("templates compiled by process", Assert.Single(afterEdit.Collector.GetSnapshot()).Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Edited after the first compile.", firstText, StringComparison.Ordinal);
        Assert.Contains("Edited after the first compile.", editedText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no-such-program", "The template compiler /no/such/program did not start")]
    [InlineData("crashes", "The template compiler failed (it exited with 3: out of memory)")]
    [InlineData("prints-something-else", "The template compiler failed (what it printed is not a list of templates")]
    [InlineData("prints-nothing", "The template compiler failed (it printed no templates)")]
    public async Task Render_ChildFails_WarnsAndThisProcessCompilesTheTemplates(string child, string warning)
    {
        var options = Options.Create(new TemplateOptions());
        var logger = new FakeLogger<TemplateCompilerProcess>();
        (string, IReadOnlyList<string>) command = child switch
        {
            "no-such-program" => ("/no/such/program", []),
            "crashes" => ("/bin/sh", ["-c", "echo 'out of memory' >&2; exit 3", "sh"]),
            "prints-something-else" => ("/bin/sh", ["-c", "echo 'Usage: newsletter [command]'", "sh"]),
            _ => ("/bin/sh", ["-c", "echo null", "sh"]),
        };
        var templates = new EmailTemplates(options, NullLogger<EmailTemplates>.Instance, new TemplateCompilerProcess(options, logger, command));
        var view = new ConfirmationMailView("ada@example.org", "https://papers.lab.example.org/confirm/tok", false, 48);

        var html = await templates.RenderAsync(ConfirmationMailRenderer.HtmlKey, view);

        Assert.Equal(await new EmailTemplates(options, NullLogger<EmailTemplates>.Instance).RenderAsync(ConfirmationMailRenderer.HtmlKey, view), html);
        Assert.True(templates.CompiledHere > 0);
        var logged = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.StartsWith(warning, logged.Message, StringComparison.Ordinal);
        Assert.EndsWith("this process compiles the templates itself", logged.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static void CopyStockTemplatesTo(string root)
    {
        var stock = new TemplateOptions().ResolvedRoot;
        foreach (var file in Directory.GetFiles(stock, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(root, Path.GetRelativePath(stock, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static EmailTemplates Templates(IOptions<TemplateOptions> options, FakeLogger<TemplateCompilerProcess> logger) =>
        new(options, NullLogger<EmailTemplates>.Instance, new TemplateCompilerProcess(options, logger));

    private static EmailTemplates WithChild(IOptions<TemplateOptions> options) =>
        new(options, NullLogger<EmailTemplates>.Instance, new TemplateCompilerProcess(options, NullLogger<TemplateCompilerProcess>.Instance));
}
