using Newsletter.Database;
using Newsletter.Subscribers;

namespace Newsletter.Admin;

/// <summary>A reader's choices as the admin API shows and takes them; on input, a missing field keeps its value.</summary>
public sealed record ReaderChoicesDto(int? Suggestions, string? Frequency, string? Weekday, string? TimeZone, bool? NoRepeats)
{
    public static ReaderChoicesDto From(ReaderChoices c) =>
        new(c.Suggestions, ReaderChoices.ToDb(c.Frequency), ReaderChoices.ToDb(c.Weekday), c.TimeZone, c.NoRepeats);
}

/// <summary><c>/admin/api/subscribers/{id}/choices</c>: read and change a reader's choices (frequency, weekday, time zone, no repeats, suggestions).</summary>
internal static class AdminChoicesApi
{
    public static void MapReaderChoices(this RouteGroupBuilder api)
    {
        api.MapGet("/subscribers/{id}/choices", async (long id, SubscriberStore store, CancellationToken ct) =>
            await store.GetAsync(id, ct) is null ? AdminApi.NoSubscriber(id) : Results.Ok(ReaderChoicesDto.From(await store.GetChoicesAsync(id, ct))));
        api.MapPut("/subscribers/{id}/choices", async (long id, ReaderChoicesDto input, SubscriberStore store, CancellationToken ct) =>
        {
            if (await store.GetAsync(id, ct) is null)
            {
                return AdminApi.NoSubscriber(id);
            }
            var current = await store.GetChoicesAsync(id, ct);
            if (!DbNames.TryParseOptional(input.Frequency, current.Frequency, out var frequency) || !DbNames.TryParseOptional(input.Weekday, current.Weekday, out var weekday))
            {
                return Results.Problem("frequency must be daily or weekly and weekday a day's English name (monday).", statusCode: 400);
            }
            var choices = new ReaderChoices(input.Suggestions ?? current.Suggestions)
            {
                Frequency = frequency,
                Weekday = weekday,
                TimeZone = input.TimeZone is null ? current.TimeZone : input.TimeZone,
                NoRepeats = input.NoRepeats ?? current.NoRepeats,
            };
            try
            {
                await store.UpdateChoicesAsync(id, choices, ct);
            }
            catch (ArgumentException ex)
            {
                return Results.Problem(ex.Message, statusCode: 400);
            }
            return Results.Ok(ReaderChoicesDto.From(await store.GetChoicesAsync(id, ct)));
        });
    }
}
