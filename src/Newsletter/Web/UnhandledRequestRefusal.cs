using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Newsletter.Web;

/// <summary>
/// A page answers only what it has a handler for: another method gets 405 before antiforgery or a token is looked at,
/// and a POST naming none of the page's handlers 404. Razor Pages would render the page without running a handler, its
/// model unset. An error page re-executed for such a request renders whatever the method. OPTIONS learns the methods
/// from Allow, with the 200 Razor Pages gives it.
/// </summary>
internal sealed class UnhandledRequestRefusal : IAuthorizationFilter, IPageFilter, IOrderedFilter
{
    // Before antiforgery, an authorization filter too.
    public int Order => int.MinValue;

    public void OnAuthorization(AuthorizationFilterContext context)
    {
        if (context.ActionDescriptor is not CompiledPageActionDescriptor page || IsReExecuted(context.HttpContext))
        {
            return;
        }
        var request = context.HttpContext.Request;
        // Razor Pages runs the GET handler for a HEAD.
        var method = HttpMethods.IsHead(request.Method) ? HttpMethods.Get : request.Method.ToUpperInvariant();
        // A page without a model of its own (CheckInbox) has nothing to leave unset: it is read with GET.
        var handled = page.HandlerMethods.Count == 0
            ? [HttpMethods.Get]
            : page.HandlerMethods.Select(handler => handler.HttpMethod.ToUpperInvariant()).Distinct().Order(StringComparer.Ordinal).ToList();
        if (HttpMethods.IsOptions(method) || !handled.Contains(method))
        {
            context.HttpContext.Response.Headers.Allow = string.Join(", ", handled.Contains("GET") ? handled.Prepend("HEAD") : handled);
            context.Result = HttpMethods.IsOptions(method) ? null : new StatusCodeResult(StatusCodes.Status405MethodNotAllowed);
        }
    }

    public void OnPageHandlerSelected(PageHandlerSelectedContext context)
    {
    }

    public void OnPageHandlerExecuting(PageHandlerExecutingContext context)
    {
        if (context.HandlerMethod is null && context.ActionDescriptor.HandlerMethods.Count > 0
            && !HttpMethods.IsOptions(context.HttpContext.Request.Method) && !IsReExecuted(context.HttpContext))
        {
            context.Result = new NotFoundResult();
        }
    }

    public void OnPageHandlerExecuted(PageHandlerExecutedContext context)
    {
    }

    private static bool IsReExecuted(HttpContext http) =>
        http.Features.Get<IStatusCodeReExecuteFeature>() is not null || http.Features.Get<IExceptionHandlerFeature>() is not null;
}
