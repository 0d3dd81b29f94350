using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Microsoft.Extensions.Options;

namespace Newsletter.Admin;

/// <summary>
/// The subscribers page's POSTs (the form around the file included) may be as large as <see cref="AdminOptions.MaxImportMegabytes"/>. A larger one is read
/// and dropped (a browser still uploading does not see a reset connection) and sent back to the page, which says the
/// limit and the CLI verb, instead of the server's bare 413. Runs before antiforgery, which would read the form.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ImportSizeLimitAttribute : Attribute, IAsyncAuthorizationFilter, IOrderedFilter
{
    public const string RefusalKey = "ImportRefusal";

    /// <summary>A body larger than this is not read to its end: the connection is closed instead.</summary>
    private const long MaxDrainedBytes = 1024L * 1024 * 1024;

    public int Order => 900;

    public async Task OnAuthorizationAsync(AuthorizationFilterContext context)
    {
        var http = context.HttpContext;
        if (!HttpMethods.IsPost(http.Request.Method))
        {
            return;
        }
        var options = http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value;
        var sizeLimit = http.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (http.Request.ContentLength is not { } length || length <= options.MaxImportBytes)
        {
            if (sizeLimit is { IsReadOnly: false })
            {
                sizeLimit.MaxRequestBodySize = options.MaxImportBytes;
            }
            http.Features.Set<IFormFeature>(new FormFeature(http.Request, new FormOptions { MultipartBodyLengthLimit = options.MaxImportBytes }));
            return;
        }
        if (length <= MaxDrainedBytes && sizeLimit is { IsReadOnly: false })
        {
            sizeLimit.MaxRequestBodySize = null;
            await http.Request.Body.CopyToAsync(Stream.Null, http.RequestAborted);
        }
        var tempData = http.RequestServices.GetRequiredService<ITempDataDictionaryFactory>().GetTempData(http);
        tempData[RefusalKey] = options.ImportTooLarge;
        tempData.Save();
        context.Result = new Microsoft.AspNetCore.Mvc.RedirectResult("/admin/subscribers#import");
    }
}
