using Microsoft.AspNetCore.Mvc.ApplicationModels;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.Mvc.Razor.Compilation;

namespace Newsletter.Admin;

/// <summary>
/// Finds the compiled pages under <c>/Admin/Pages/</c> whatever <c>RazorPagesOptions.RootDirectory</c> the public site
/// chose, and routes each by its own <c>@page "/admin/..."</c> template. The built-in provider only looks inside the
/// root directory, so this lets both areas live in their feature folders without agreeing on one root.
/// </summary>
internal sealed class AdminPageRouteModelProvider(ApplicationPartManager parts) : IPageRouteModelProvider
{
    public const string Folder = "/Admin/Pages/";

    // After the built-in providers (-1000), so a root directory that already covers the folder wins and nothing doubles.
    public int Order => -900;

    public void OnProvidersExecuting(PageRouteModelProviderContext context)
    {
        var views = new ViewsFeature();
        parts.PopulateFeature(views);
        foreach (var view in views.ViewDescriptors)
        {
            if (view.Item is not { Kind: "mvc.1.0.razor-page" } item
                || !view.RelativePath.StartsWith(Folder, StringComparison.OrdinalIgnoreCase)
                || context.RouteModels.Any(m => string.Equals(m.RelativePath, view.RelativePath, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }
            var template = item.Metadata.OfType<Microsoft.AspNetCore.Razor.Hosting.RazorCompiledItemMetadataAttribute>()
                .FirstOrDefault(m => m.Key == "RouteTemplate")?.Value;
            if (template is null || !template.StartsWith("/admin", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{view.RelativePath} needs an explicit @page \"/admin/...\" route.");
            }
            var viewEnginePath = Path.ChangeExtension(view.RelativePath, null);
            var model = new PageRouteModel(view.RelativePath, viewEnginePath);
            model.RouteValues["page"] = viewEnginePath;
            model.Selectors.Add(new SelectorModel { AttributeRouteModel = new AttributeRouteModel { Template = template.TrimStart('/') } });
            context.RouteModels.Add(model);
        }
    }

    public void OnProvidersExecuted(PageRouteModelProviderContext context)
    {
    }
}
