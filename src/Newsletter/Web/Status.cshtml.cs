using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Newsletter.Web;

/// <summary>
/// The page behind every error status (re-executed by the status code pages and, outside Development, the exception
/// handler): a short human sentence, never a stack trace. Re-executed requests keep their method, so every method renders.
/// </summary>
[IgnoreAntiforgeryToken]
public sealed class StatusModel : PageModel
{
    public int Code { get; private set; }

    public string Heading => Code switch
    {
        400 => "That request did not work",
        404 => "Page not found",
        410 => "This link has expired",
        413 => "That was more than a form sends",
        429 => "Too many requests",
        >= 500 => "Something went wrong on our side",
        _ => "That did not work",
    };

    public string Text => Code switch
    {
        400 => "The form may have been open for too long or sent from elsewhere. Go back, reload the page and try again.",
        404 => "There is nothing at this address. Check the link, or start from the subscribe page.",
        410 => "Subscribe again to get a new link.",
        413 => "Nothing was saved. Go back, shorten what you typed and send the form again.",
        429 => "Your address sent more requests than a minute allows here. Wait a minute and try again.",
        >= 500 => "The problem was logged. Please try again in a few minutes.",
        _ => "Go back and try again.",
    };

    // From the route, not binding: a re-executed POST whose form cannot be read fails binding again (code 0, shown as 404).
    public IActionResult OnGet()
    {
        var code = int.TryParse(RouteData.Values["code"] as string, NumberStyles.None, CultureInfo.InvariantCulture, out var routed) ? routed : 404;
        Code = code is >= 400 and < 600 ? code : 404;
        Response.StatusCode = Code;
        return Page();
    }

    public IActionResult OnPost() => OnGet();

    /// <summary>A re-executed PUT, TRACE or other method has no handler here: the page shows the status it already has.</summary>
    public override void OnPageHandlerSelected(PageHandlerSelectedContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.HandlerMethod is null)
        {
            Code = Response.StatusCode;
        }
    }
}
