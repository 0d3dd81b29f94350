using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Newsletter.Hosting;

/// <summary>The /readyz body: overall status and one line per dependency, so an operator sees what is down.</summary>
internal static class ReadinessReport
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), detail = e.Value.Description }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}
