using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Newsletter.Admin;

/// <summary>
/// Errors under <c>/admin/api</c> as <c>application/problem+json</c> (RFC 9457), whatever the client accepts: an unknown
/// address, a method it does not answer, a request its endpoint could not read, a failure. The site's HTML error pages
/// stay for everything else.
/// </summary>
internal static class AdminApiProblems
{
    public const string Prefix = "/admin/api";

    public static bool IsApiRequest(HttpContext context) => context.Request.Path.StartsWithSegments(Prefix);

    /// <summary>Inside the site's exception handler and status code pages, so an API answer never reaches them.</summary>
    public static void UseAdminApiProblems(this IApplicationBuilder app) =>
        app.UseWhen(IsApiRequest, api =>
        {
            api.UseExceptionHandler(new ExceptionHandlerOptions
            {
                ExceptionHandler = context => Problem(context.Features.Get<IExceptionHandlerFeature>()!.Error).ExecuteAsync(context),
                StatusCodeSelector = StatusOf,
                // A request the endpoint could not read is the client's mistake, told in the answer: not an error to log.
                SuppressDiagnosticsCallback = context => context.Exception is BadHttpRequestException,
            });
            api.UseStatusCodePages(context => Problem(context.HttpContext).ExecuteAsync(context.HttpContext));
        });

    /// <summary>A problem naming an admin API resource that does not exist.</summary>
    public static ProblemHttpResult NotFound(string what) => TypedResults.Problem($"{what} does not exist.", statusCode: StatusCodes.Status404NotFound);

    private static int StatusOf(Exception exception) =>
        exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError;

    private static ProblemHttpResult Problem(Exception exception) => exception switch
    {
        // The JSON reader's message names the property and position ("Path: $.noRepeats"); the outer one the parameter.
        BadHttpRequestException { InnerException: JsonException json } bad => TypedResults.Problem($"{bad.Message} {json.Message}", statusCode: bad.StatusCode),
        BadHttpRequestException bad => TypedResults.Problem(bad.Message, statusCode: bad.StatusCode),
        _ => TypedResults.Problem("The request failed on the server; the error is logged.", statusCode: StatusCodes.Status500InternalServerError),
    };

    /// <summary>An error status with nothing written yet: from routing (no such address, another method) or an endpoint.</summary>
    private static ProblemHttpResult Problem(HttpContext context)
    {
        var request = context.Request;
        var status = context.Response.StatusCode;
        var detail = status switch
        {
            StatusCodes.Status404NotFound when context.GetEndpoint() is null => $"The admin API has nothing at {request.Method} {request.Path}.",
            StatusCodes.Status405MethodNotAllowed => $"{request.Path} does not answer {request.Method}; it answers {context.Response.Headers.Allow}.",
            StatusCodes.Status415UnsupportedMediaType => $"The body must be JSON (Content-Type: application/json), not {request.ContentType ?? "without a type"}.",
            _ => null,
        };
        return TypedResults.Problem(detail, statusCode: status);
    }
}
