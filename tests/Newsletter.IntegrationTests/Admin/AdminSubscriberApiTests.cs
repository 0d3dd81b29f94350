using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>The subscriber endpoints of the admin API take a status, format or weekday by its one name, nothing else.</summary>
public sealed class AdminSubscriberApiTests
{
    [Fact]
    public async Task Api_ValueNamingTwoChoices_RefusedAndNothingChanged()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("kept@lab.example.org", "diffusion");
        using var api = AdminTestKit.ApiClient(app);

        // Read as a flags enum, "active,paused" was unsubscribed and "monday,friday" friday.
        using var added = await api.PostAsJsonAsync("admin/api/subscribers", new { email = "new@lab.example.org", interests = "x", status = "active,paused" }, Ct);
        using var changed = await api.PutAsJsonAsync($"admin/api/subscribers/{reader.Id}", new { status = "active,paused" }, Ct);
        using var listed = await api.GetAsync("admin/api/subscribers?status=active,paused", Ct);
        using var chosen = await api.PutAsJsonAsync($"admin/api/subscribers/{reader.Id}/choices", new { frequency = "weekly", weekday = "monday,friday" }, Ct);

        Assert.Equal(
            [HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest],
            [added.StatusCode, changed.StatusCode, listed.StatusCode, chosen.StatusCode]);
        var store = app.Services.GetRequiredService<SubscriberStore>();
        Assert.Null(await store.FindByEmailAsync("new@lab.example.org", Ct));
        Assert.Equal(SubscriberStatus.Active, (await store.GetAsync(reader.Id, Ct))!.Status);
        Assert.Equal(DigestFrequency.Daily, (await store.GetChoicesAsync(reader.Id, Ct)).Frequency);
    }
}
