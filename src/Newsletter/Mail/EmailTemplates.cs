using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Html;
using Microsoft.Extensions.Options;
using RazorLight;

namespace Newsletter.Mail;

/// <summary>
/// The one RazorLight engine for every email template in <c>templates/</c> (digests, confirmations): each template
/// is compiled once per process (about 2 s for the first), or by another process and loaded here (<see cref="Load"/>),
/// and its HTML has the shared CSS inlined once, at load.
/// RazorLight HTML-encodes every value; no template may use @Raw on data from an email or a request.
/// </summary>
public sealed class EmailTemplates
{
    private readonly RazorLightEngine engine;
    private readonly CompiledTemplateCache _compiled = new();
    private readonly string _root;
    private readonly Lazy<Task> _loaded;

    // Templates found to need RazorLight's page pipeline (sections, includes, a layout that has a layout); the rest,
    // one layout included, run directly.
    private readonly ConcurrentDictionary<string, bool> _needsPipeline = new(StringComparer.Ordinal);

    // What RazorLight knows of a model's type, worked out once per type instead of by reflection on every render.
    private readonly ConcurrentDictionary<Type, ModelTypeInfo> _modelTypes = new();

    /// <param name="compiler">
    /// Where a long-running process that only renders gets its templates compiled (a child process); without it each
    /// template is compiled here on its first use.
    /// </param>
    public EmailTemplates(IOptions<TemplateOptions> options, ILogger<EmailTemplates> logger, TemplateCompilerProcess? compiler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _loaded = new Lazy<Task>(() => compiler is null ? Task.CompletedTask : LoadFromAsync(compiler), LazyThreadSafetyMode.ExecutionAndPublication);
        _root = options.Value.ResolvedRoot;
        var css = File.ReadAllText(Path.Combine(_root, "Shared", "email.css"));
        engine = new RazorLightEngineBuilder()
            .UseProject(new CssInliningRazorProject(_root, css, logger))
            // The engine lives in this assembly, not necessarily the entry one (tests, benchmarks).
            .SetOperatingAssembly(typeof(EmailTemplates).Assembly)
            .UseCachingProvider(_compiled)
            .Build();
    }

    /// <summary>How many templates this process compiled itself (none when they were all loaded).</summary>
    internal int CompiledHere => _compiled.CompiledHere;

    /// <summary>
    /// Compiles every template under the root (each <c>.cshtml</c> file but <c>_ViewImports</c>), and returns them as
    /// assemblies that another process can <see cref="Load"/>. Throws, naming the template, when one does not compile.
    /// </summary>
    public async Task<IReadOnlyList<CompiledTemplate>> CompileAllAsync()
    {
        var compiled = new List<CompiledTemplate>();
        foreach (var key in Keys(_root))
        {
            await CompileAsync(key).ConfigureAwait(false);
            var page = await engine.CompileTemplateAsync(key).ConfigureAwait(false);
            compiled.Add(new CompiledTemplate(key, page.Key, _compiled.Emitted(page.Key)));
        }
        return compiled;
    }

    /// <summary>Renders these templates from their assemblies from now on: only a template not among them is compiled here.</summary>
    public void Load(IEnumerable<CompiledTemplate> templates)
    {
        ArgumentNullException.ThrowIfNull(templates);
        foreach (var template in templates)
        {
            _compiled.Add(template);
        }
    }

    /// <summary>Every template from the compiler's child, once; a child that cannot start leaves them to be compiled here.</summary>
    private async Task LoadFromAsync(TemplateCompilerProcess compiler)
    {
        if (await compiler.CompileAsync(CancellationToken.None).ConfigureAwait(false) is { } compiled)
        {
            Load(compiled);
        }
    }

    /// <summary>A template's key is its path under the root without <c>.cshtml</c>, with forward slashes: <c>Digest/Digest.html</c>.</summary>
    private static IEnumerable<string> Keys(string root) =>
        Directory.EnumerateFiles(root, "*.cshtml", SearchOption.AllDirectories)
            .Where(path => !Path.GetFileName(path).StartsWith("_ViewImports", StringComparison.OrdinalIgnoreCase))
            .Select(path => Path.GetRelativePath(root, path)[..^".cshtml".Length].Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal);

    public async Task CompileAsync(string key)
    {
        await _loaded.Value.ConfigureAwait(false);
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

    /// <summary>
    /// Whether a template has been found to need RazorLight's page pipeline (tests: the direct path is taken).
    /// </summary>
    internal bool RendersThroughPipeline(string key) => _needsPipeline.GetValueOrDefault(key);

    public Task<string> RenderAsync<TModel>(string key, TModel model) => RenderAsync(key, model, static text => text.ToString());

    /// <summary>
    /// Renders a template and hands its output to <paramref name="read"/> while it is still in the render's buffer:
    /// a digest's parts are encoded straight from there instead of from a string made only to be encoded.
    /// </summary>
    public async Task<T> RenderAsync<TModel, T>(string key, TModel model, RenderedTextReader<T> read)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(read);
        await _loaded.Value.ConfigureAwait(false);
        if (!_needsPipeline.GetValueOrDefault(key))
        {
            var (rendered, result) = await RenderDirectAsync(await engine.CompileTemplateAsync(key).ConfigureAwait(false), model, read).ConfigureAwait(false);
            if (rendered)
            {
                return result!;
            }
            _needsPipeline[key] = true;
        }
        return read(await engine.RenderTemplateAsync(await engine.CompileTemplateAsync(key).ConfigureAwait(false), model).ConfigureAwait(false));
    }

    /// <summary>
    /// Runs a page straight into one writer, then its layout with the page's output as the body, as RazorLight's
    /// renderer does but without its buffering; only for a page whose one layout has no layout, sections or includes
    /// (false otherwise, and the page then goes through the pipeline).
    /// </summary>
    private async Task<(bool Rendered, T? Result)> RenderDirectAsync<T>(ITemplatePage page, object model, RenderedTextReader<T> read)
    {
        var type = _modelTypes.GetOrAdd(model.GetType(), static modelType => new ModelTypeInfo(modelType));
        var templateModel = type.CreateTemplateModel(model);
        var output = RentBuilder();
        try
        {
            if (!await ExecuteAsync(page, type, templateModel, output).ConfigureAwait(false) || page.SectionWriters.Count > 0)
            {
                return default;
            }
            if (page.Layout is null)
            {
                return (true, Read(output, read));
            }

            var layout = await engine.CompileTemplateAsync(page.Layout).ConfigureAwait(false);
            layout.BodyContent = new HtmlString(output.ToString());
            layout.PreviousSectionWriters = page.SectionWriters;
            page.IsLayoutBeingRendered = true;
            output.Clear();
            if (!await ExecuteAsync(layout, type, templateModel, output).ConfigureAwait(false) || layout.Layout is not null || layout.SectionWriters.Count > 0)
            {
                return default;
            }
            layout.EnsureRenderedBodyOrSections();
            return (true, Read(output, read));
        }
        finally
        {
            ReturnBuilder(output);
        }
    }

    /// <summary>
    /// Runs the page into <paramref name="output"/>; false when it includes another page (the pipeline's job).
    /// </summary>
    private static async Task<bool> ExecuteAsync(ITemplatePage page, ModelTypeInfo type, object model, StringBuilder output)
    {
        using var writer = new StringWriter(output, CultureInfo.InvariantCulture);
        page.PageContext = new PageContext { ExecutingPageKey = page.Key, Writer = writer, ModelTypeInfo = type, Model = model };
        page.SetModel(model);
        page.IncludeFunc = (_, _) => throw new IncludeNeedsPipelineException();
        try
        {
            await page.ExecuteAsync().ConfigureAwait(false);
            return true;
        }
        catch (IncludeNeedsPipelineException)
        {
            return false;
        }
    }

    /// <summary>
    /// The output as one span: the builder's only chunk when it has one (the usual case once it has grown).
    /// </summary>
    internal static T Read<T>(StringBuilder output, RenderedTextReader<T> read)
    {
        var chunks = output.GetChunks();
        if (!chunks.MoveNext())
        {
            return read([]);
        }
        var first = chunks.Current;
        return chunks.MoveNext() ? read(output.ToString()) : read(first.Span);
    }

    // One builder per thread, reused: a digest's frame grew a fresh one chunk by chunk, a tenth of what a fan-out
    // allocated. Taken while in use, so two renders never share one, whichever thread an await resumes on.
    [ThreadStatic]
    private static StringBuilder? t_builder;

    private const int MaxReusedBuilderChars = 256 * 1024;

    private static StringBuilder RentBuilder()
    {
        var builder = t_builder ?? new StringBuilder(16 * 1024);
        t_builder = null;
        return builder;
    }

    private static void ReturnBuilder(StringBuilder builder)
    {
        if (builder.Capacity <= MaxReusedBuilderChars)
        {
            builder.Clear();
            t_builder = builder;
        }
    }

    private sealed class IncludeNeedsPipelineException : Exception;
}

/// <summary>Reads a rendered template's output, which is only valid during the call.</summary>
public delegate T RenderedTextReader<out T>(ReadOnlySpan<char> text);
