using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Newsletter.Database;
using Newsletter.Digests;
using Newsletter.Inbox;
using Newsletter.Subscribers;
using Newsletter.Web;

namespace Newsletter.Admin;

public sealed record SubscriberDto(long Id, string Email, string Status, string Interests, string Format, DateTimeOffset CreatedAt, DateTimeOffset? ConfirmedAt)
{
    public static SubscriberDto From(Subscriber s) =>
        new(s.Id, s.Email, SubscriberStore.ToDb(s.Status), s.Interests, SubscriberStore.ToDb(s.Format), s.CreatedAt, s.ConfirmedAt);
}

public sealed record SubscriberInput(string? Email, string? Interests, string? Status, string? Format);

public sealed record ResendInput(string? Scope, string? Email, bool DryRun);

/// <summary><c>/admin/api/...</c>: the admin operations as JSON, for scripts. Bearer token only; no cookies, so no antiforgery.</summary>
internal static class AdminApi
{
    public static void MapAdminApi(this WebApplication app)
    {
        var api = app.MapGroup(AdminApiProblems.Prefix).RequireAuthorization(AdminAuthentication.ApiPolicy).AddEndpointFilter(WebPageHeaders.OnEndpointAsync);

        api.MapGet("/issues", async (int? limit, int? offset, AdminQueries queries, CancellationToken ct) =>
            Results.Ok(await queries.LatestIssuesAsync(Math.Clamp(limit ?? 50, 1, 500), Math.Max(0, offset ?? 0), null, ct)));
        api.MapGet("/issues/{id}", async (long id, AdminQueries queries, Resender resender, CancellationToken ct) =>
            await queries.GetIssueAsync(id, ct) is { } issue
                ? Results.Ok(new { issue, generations = await resender.ProgressAsync(id, null, ct) })
                : NoIssue(id));
        api.MapGet("/issues/{id}/deliveries", async (long id, string? status, int? generation, string? email, int? limit, int? offset,
            AdminQueries queries, CancellationToken ct) =>
            await queries.GetIssueAsync(id, ct) is null ? NoIssue(id)
            : !DbNames.TryParseOptional<DeliveryStatus>(status, out var filter) ? Results.Problem(AdminQueries.NotADeliveryStatus(status), statusCode: 400)
            : Results.Ok(await queries.DeliveriesAsync(id, filter, generation, email, Math.Clamp(limit ?? 500, 1, 5000), Math.Max(0, offset ?? 0), ct)));
        api.MapGet("/issues/{id}/generations", async (long id, AdminQueries queries, Resender resender, CancellationToken ct) =>
            await queries.GetIssueAsync(id, ct) is null ? NoIssue(id) : Results.Ok(await resender.ProgressAsync(id, null, ct)));
        api.MapPost("/issues/{id}/resend", async (long id, ResendInput input, Resender resender, HttpContext http, CancellationToken ct) =>
        {
            if (!Resender.TryParseScope(input.Scope, out var scope))
            {
                return Results.Problem(Resender.ScopeRefusal(input.Scope), statusCode: 400);
            }
            try
            {
                if (input.DryRun)
                {
                    return Results.Ok(await resender.PreviewAsync(id, scope, input.Email, ct));
                }
                var requested = await resender.RequestAsync(id, scope, input.Email, AdminAuthentication.RequestedBy(http.User), ct);
                return Results.Accepted($"/admin/api/issues/{id}/generations", requested);
            }
            catch (ResendRefusedException ex)
            {
                return Results.Problem(ex.Message, statusCode: ex.TryLater ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest);
            }
        });

        api.MapGet("/subscribers", async (string? q, string? status, int? limit, int? offset, SubscriberStore store, CancellationToken ct) =>
        {
            if (!DbNames.TryParseOptional<SubscriberStatus>(status, out var filter))
            {
                return UnknownStatus(status);
            }
            var found = await store.SearchAsync(q, filter, Math.Clamp(limit ?? 100, 1, 5000), Math.Max(0, offset ?? 0), ct);
            return Results.Ok(found.Select(SubscriberDto.From));
        });
        api.MapGet("/subscribers/{id}", async (long id, SubscriberStore store, CancellationToken ct) =>
            await store.GetAsync(id, ct) is { } s ? Results.Ok(SubscriberDto.From(s)) : NoSubscriber(id));
        api.MapPost("/subscribers", async (SubscriberInput input, SubscriberStore store, CancellationToken ct) =>
        {
            // Left out, a field keeps what an address already there has; a new one is active, HTML, with no interests.
            if (!DbNames.TryParseOptional<SubscriberStatus>(input.Status, out var status) || !DbNames.TryParseOptional<DigestFormat>(input.Format, out var format))
            {
                return Results.Problem("status must be pending|active|paused|unsubscribed|bounced and format html|text.", statusCode: 400);
            }
            return await Validated(async () =>
            {
                var (subscriber, created) = await store.UpsertAsync(input.Email ?? "", input.Interests, status, format, ct);
                return created
                    ? Results.Created($"/admin/api/subscribers/{subscriber.Id}", SubscriberDto.From(subscriber))
                    : Results.Ok(SubscriberDto.From(subscriber));
            });
        });
        api.MapPut("/subscribers/{id}", async (long id, SubscriberInput input, SubscriberStore store, CancellationToken ct) =>
        {
            var current = await store.GetAsync(id, ct);
            if (current is null)
            {
                return NoSubscriber(id);
            }
            if (!DbNames.TryParseOptional(input.Status, current.Status, out var status) || !DbNames.TryParseOptional(input.Format, current.Format, out var format))
            {
                return Results.Problem("status must be pending|active|paused|unsubscribed|bounced and format html|text.", statusCode: 400);
            }
            // A reader's address is who they are (their links, their consent): an update that names another is refused, not ignored.
            if (!string.IsNullOrWhiteSpace(input.Email) && !input.Email.Trim().Equals(current.Email, StringComparison.OrdinalIgnoreCase))
            {
                return Results.Problem($"Subscriber {id} is {current.Email}; an address cannot be changed. Add {input.Email.Trim()} as a subscriber of its own.", statusCode: 400);
            }
            return await Validated(async () =>
                await store.UpdateAsync(id, input.Interests ?? current.Interests, status, format, ct) is { } s
                    ? Results.Ok(SubscriberDto.From(s)) : NoSubscriber(id));
        });
        api.MapReaderChoices();
        api.MapDelete("/subscribers/{id}", async (long id, SubscriberStore store, CancellationToken ct) =>
            await store.DeleteAsync(id, ct) ? Results.NoContent() : NoSubscriber(id));
        api.MapGet("/subscribers/{id}/personal-data", async (long id, AdminPersonalData data, CancellationToken ct) =>
            await data.ExportAsync(id, ct) is { } export ? Results.Ok(export) : NoSubscriber(id));
        api.MapPost("/subscribers/import", async (HttpRequest request, SubscriberCsv csv, IOptions<AdminOptions> options, CancellationToken ct) =>
        {
            var limit = options.Value.MaxImportBytes;
            if (request.ContentLength > limit)
            {
                return Results.Problem(options.Value.ImportTooLarge, statusCode: StatusCodes.Status413PayloadTooLarge);
            }
            if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
            {
                sizeLimit.MaxRequestBodySize = limit;
            }
            using var reader = new StreamReader(request.Body, SubscriberCsv.Utf8, detectEncodingFromByteOrderMarks: true);
            try
            {
                return Results.Ok(await csv.ImportAsync(reader, ct));
            }
            catch (CsvImportException ex)
            {
                return Results.Problem(ex.Message, statusCode: 400);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                // Sent without a length, the body passed the limit while read; the import's transaction is undone.
                return Results.Problem(options.Value.ImportTooLarge, statusCode: StatusCodes.Status413PayloadTooLarge);
            }
        });
        api.MapGet("/subscribers/export", async (string? status, SubscriberCsv csv, HttpContext http, CancellationToken ct) =>
        {
            if (!DbNames.TryParseOptional<SubscriberStatus>(status, out var filter))
            {
                return UnknownStatus(status);
            }
            http.Response.ContentType = "text/csv; charset=utf-8";
            await using var writer = new StreamWriter(http.Response.Body, SubscriberCsv.Utf8, leaveOpen: true);
            await csv.ExportAsync(writer, filter, ct);
            return Results.Empty;
        });

        api.MapGet("/quarantine", async (int? limit, int? offset, AdminQueries queries, CancellationToken ct) =>
            Results.Ok(await queries.InboundAsync("quarantined", Math.Clamp(limit ?? 100, 1, 1000), Math.Max(0, offset ?? 0), ct)));
        api.MapPost("/quarantine/{id}/reingest", async (long id, MessageIngestor ingestor, AdminQueries queries, CancellationToken ct) =>
            await ingestor.ReingestAsync(id, ct) is { } outcome
                ? Results.Ok(new { status = outcome.Status.ToString().ToLowerInvariant(), inboundMessageId = outcome.InboundMessageId, outcome.IssueId, outcome.Reason })
                : await queries.GetInboundAsync(id, ct) is null
                    ? AdminApiProblems.NotFound($"Inbound message {id}")
                    : Results.Problem($"Inbound message {id} is not quarantined.", statusCode: 409));
    }

    private static async Task<IResult> Validated(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (InterestSyntaxException ex)
        {
            return Results.Problem(ex.Message, statusCode: 400, extensions: new Dictionary<string, object?> { ["field"] = "interests", ["position"] = ex.Position });
        }
        catch (ArgumentException ex)
        {
            return Results.Problem(ex.Message, statusCode: 400, extensions: new Dictionary<string, object?> { ["field"] = "email" });
        }
    }

    internal static IResult NoSubscriber(long id) => AdminApiProblems.NotFound($"Subscriber {id}");

    internal static IResult NoIssue(long id) => AdminApiProblems.NotFound($"Issue {id}");

    internal static IResult UnknownStatus(string? status) => Results.Problem(
        $"Unknown status '{status}'; one of {string.Join(", ", Enum.GetValues<SubscriberStatus>().Select(DbNames.ToDb))}.", statusCode: 400);
}
