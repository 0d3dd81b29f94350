using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.Primitives;
using RazorLight;
using RazorLight.Caching;
using RazorLight.Compilation;
using RazorLight.Generation;
using RazorLight.Razor;

namespace Newsletter.Mail;

/// <summary>One template as Roslyn compiled it: the key it is rendered by, the key its page carries, its assembly.</summary>
public sealed record CompiledTemplate(string Key, string PageKey, byte[] Assembly);

/// <summary>
/// RazorLight's cache of compiled templates, which also keeps each assembly Roslyn emits in this process (so a
/// compiling process can hand it to another) and takes assemblies compiled elsewhere (so a process that only renders
/// never loads Roslyn).
/// </summary>
internal sealed class CompiledTemplateCache : ICachingProvider, IPrecompileCallback
{
    private readonly MemoryCachingProvider _pages = new();
    private readonly ConcurrentDictionary<string, byte[]> _emitted = new(StringComparer.Ordinal);

    /// <summary>How many templates Roslyn compiled in this process.</summary>
    public int CompiledHere => _emitted.Count;

    /// <summary>The assembly Roslyn emitted here for the page with key <paramref name="pageKey"/>.</summary>
    public byte[] Emitted(string pageKey) =>
        _emitted.TryGetValue(pageKey, out var assembly) ? assembly : throw new InvalidOperationException($"Template {pageKey} was not compiled in this process.");

    /// <summary>Serves <paramref name="template"/> from its assembly from now on, as if it had been compiled here.</summary>
    public void Add(CompiledTemplate template)
    {
        var type = System.Reflection.Assembly.Load(template.Assembly).GetCustomAttribute<RazorLightTemplateAttribute>()?.TemplateType
            ?? throw new InvalidOperationException($"The assembly given for template {template.Key} holds no template.");
        var pageKey = template.PageKey;
        _pages.CacheTemplate(template.Key, () =>
        {
            var page = (ITemplatePage)Activator.CreateInstance(type)!;
            page.Key = pageKey;
            return page;
        });
    }

    void IPrecompileCallback.Invoke(IGeneratedRazorTemplate generatedRazorTemplate, byte[] rawAssembly, byte[] rawSymbolStore) =>
        _emitted[generatedRazorTemplate.TemplateKey] = rawAssembly;

    public TemplateCacheLookupResult RetrieveTemplate(string key) => _pages.RetrieveTemplate(key);

    public void CacheTemplate(string key, Func<ITemplatePage> pageFactory, IChangeToken expirationToken) =>
        _pages.CacheTemplate(key, pageFactory, expirationToken);

    public bool Contains(string key) => _pages.Contains(key);

    public void Remove(string key) => _pages.Remove(key);
}
