using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Newsletter.Hosting;

/// <summary>
/// The /readyz answer: 200 or 503 with the overall status for anyone (a load balancer needs no more), and one line per
/// dependency, naming hosts and errors, only for the admin (the API token, or the admin cookie).
/// </summary>
internal static class ReadinessReport
{
    public static async Task<IResult> AnswerAsync(HttpContext context, ReadinessCache readiness)
    {
        var report = await readiness.GetAsync(context.RequestAborted);
        context.Response.Headers.CacheControl = "no-store";
        var status = report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        object body = await IsAdminAsync(context)
            ? new
            {
                status = report.Status.ToString(),
                checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), detail = e.Value.Description }),
            }
            : new { status = report.Status.ToString() };
        return Results.Text(JsonSerializer.Serialize(body), "application/json", statusCode: status);
    }

    /// <summary>Whether any authentication scheme of this process (none in a worker) says the caller is the admin.</summary>
    private static async Task<bool> IsAdminAsync(HttpContext context)
    {
        if (context.RequestServices.GetService<IAuthenticationSchemeProvider>() is not { } schemes)
        {
            return false;
        }
        foreach (var scheme in await schemes.GetAllSchemesAsync())
        {
            var result = await context.AuthenticateAsync(scheme.Name);
            if (result.Succeeded && result.Principal.IsInRole("admin"))
            {
                return true;
            }
        }
        return false;
    }
}
