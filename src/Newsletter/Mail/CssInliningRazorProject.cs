using Microsoft.Extensions.Logging;
using RazorLight.Razor;

namespace Newsletter.Mail;

/// <summary>
/// Templates from a folder, with the shared CSS inlined into every HTML template as it is loaded (so once, before
/// compilation). Keys ending in ".text" are plain-text templates and are served as they are.
/// </summary>
internal sealed partial class CssInliningRazorProject(string root, string css, ILogger logger) : RazorLightProject
{
    private readonly FileSystemRazorProject _files = new(root, ".cshtml");

    public override async Task<RazorLightProjectItem> GetItemAsync(string templateKey)
    {
        var item = await _files.GetItemAsync(templateKey).ConfigureAwait(false);
        if (!item.Exists || templateKey.EndsWith(".text", StringComparison.OrdinalIgnoreCase))
        {
            return item;
        }

        string source;
        using (var reader = new StreamReader(item.Read()))
        {
            source = await reader.ReadToEndAsync().ConfigureAwait(false);
        }

        var inlined = TemplateCssInliner.Inline(source, css, out var warnings);
        foreach (var warning in warnings)
        {
            LogInlinerWarning(logger, templateKey, warning);
        }

        return new TextSourceRazorProjectItem(item.Key, inlined);
    }

    public override Task<IEnumerable<RazorLightProjectItem>> GetImportsAsync(string templateKey) =>
        _files.GetImportsAsync(templateKey);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CSS inlining of template {Template}: {Warning}")]
    private static partial void LogInlinerWarning(ILogger logger, string template, string warning);
}
