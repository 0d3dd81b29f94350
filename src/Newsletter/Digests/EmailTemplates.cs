using Microsoft.Extensions.Options;
using RazorLight;

namespace Newsletter.Digests;

/// <summary>
/// The one RazorLight engine for every email template in <c>templates/</c> (digests, confirmations): each template
/// is compiled once per process (about 2 s for the first) and its HTML has the shared CSS inlined once, at load.
/// RazorLight HTML-encodes every value; no template may use @Raw on data from an email or a request.
/// </summary>
public sealed class EmailTemplates
{
    private readonly RazorLightEngine engine;

    public EmailTemplates(IOptions<TemplateOptions> options, ILogger<EmailTemplates> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var root = options.Value.ResolvedRoot;
        var css = File.ReadAllText(Path.Combine(root, "Shared", "email.css"));
        engine = new RazorLightEngineBuilder()
            .UseProject(new CssInliningRazorProject(root, css, logger))
            // The engine lives in this assembly, not necessarily the entry one (tests, benchmarks).
            .SetOperatingAssembly(typeof(EmailTemplates).Assembly)
            .UseMemoryCachingProvider()
            .Build();
    }

    public async Task CompileAsync(string key)
    {
        try
        {
            await engine.CompileTemplateAsync(key).ConfigureAwait(false);
        }
        catch (RazorLight.Compilation.TemplateCompilationException ex)
        {
            // RazorLight's message lists the errors but not the file: name it for whoever edited the templates.
            throw new InvalidOperationException($"Template {key} does not compile: {ex.Message} {string.Join(" ", ex.CompilationErrors)}", ex);
        }
    }

    public async Task<string> RenderAsync<TModel>(string key, TModel model) =>
        await engine.RenderTemplateAsync(await engine.CompileTemplateAsync(key).ConfigureAwait(false), model).ConfigureAwait(false);
}
