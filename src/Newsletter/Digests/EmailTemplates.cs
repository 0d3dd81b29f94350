using System.Collections.Concurrent;
using System.Globalization;
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

    // Templates found to need RazorLight's page pipeline (a layout, sections, includes); the rest run directly.
    private readonly ConcurrentDictionary<string, bool> _needsPipeline = new(StringComparer.Ordinal);

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

    public async Task<string> RenderAsync<TModel>(string key, TModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!_needsPipeline.GetValueOrDefault(key))
        {
            if (await RenderDirectAsync(await engine.CompileTemplateAsync(key).ConfigureAwait(false), model).ConfigureAwait(false) is { } output)
            {
                return output;
            }
            _needsPipeline[key] = true;
        }
        return await engine.RenderTemplateAsync(await engine.CompileTemplateAsync(key).ConfigureAwait(false), model).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a page's code straight into one writer. RazorLight's pipeline buffers every write and copies the result
    /// twice more before it is a string (a cached 10-paper digest's render: 37 -> 23 µs). Only for a page that is
    /// whole on its own: one that sets a layout, defines sections or includes another page gets null (its output is
    /// discarded) and from then on goes through the pipeline.
    /// </summary>
    private static async Task<string?> RenderDirectAsync(ITemplatePage page, object model)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        var type = new ModelTypeInfo(model.GetType());
        var templateModel = type.CreateTemplateModel(model);
        page.PageContext = new PageContext { ExecutingPageKey = page.Key, Writer = writer, ModelTypeInfo = type, Model = templateModel };
        page.SetModel(templateModel);
        page.IncludeFunc = (_, _) => throw new IncludeNeedsPipelineException();
        try
        {
            await page.ExecuteAsync().ConfigureAwait(false);
        }
        catch (IncludeNeedsPipelineException)
        {
            return null;
        }
        return page.Layout is null && page.SectionWriters.Count == 0 ? writer.ToString() : null;
    }

    private sealed class IncludeNeedsPipelineException : Exception;
}
