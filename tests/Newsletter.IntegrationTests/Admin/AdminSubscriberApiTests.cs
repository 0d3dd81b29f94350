using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>
/// The subscriber endpoints of the admin API (and the CLI's <c>subscribers add</c>) take a status, format or weekday by
/// its one name, nothing else, and an update of an address already there changes what it names, nothing else.
/// </summary>
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

    [Fact]
    public async Task ApiAndCommand_AddAnAddressAlreadyThereNamingOnlySomeFields_KeepTheReadersOtherChoices()
    {
        await using var app = await TestApp.StartAsync();
        var viaApi = await app.AddSubscriberAsync("api@lab.example.org", "diffusion -medical", SubscriberStatus.Paused, DigestFormat.Text);
        var viaCommand = await app.AddSubscriberAsync("cli@lab.example.org", "robot OR robotic", SubscriberStatus.Active, DigestFormat.Text);
        using var api = AdminTestKit.ApiClient(app);

        // A script changes one reader's keywords, the other's weekday; neither says anything of the format or the other field.
        using var updated = await api.PostAsJsonAsync("admin/api/subscribers", new { email = "api@lab.example.org", interests = "diffusion" }, Ct);
        var command = await AppCommand.RunAsync(["subscribers", "add", "cli@lab.example.org", "--frequency", "weekly", "--weekday", "friday"], app.Settings);

        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.True(command.ExitCode == 0, string.Join('\n', command.Errors));
        var store = app.Services.GetRequiredService<SubscriberStore>();
        var api1 = (await store.GetAsync(viaApi.Id, Ct))!;
        var cli1 = (await store.GetAsync(viaCommand.Id, Ct))!;
        Assert.Equal(("diffusion", DigestFormat.Text, SubscriberStatus.Paused), (api1.Interests, api1.Format, api1.Status));
        Assert.Equal(("robot OR robotic", DigestFormat.Text, DigestFrequency.Weekly), (cli1.Interests, cli1.Format, (await store.GetChoicesAsync(viaCommand.Id, Ct)).Frequency));
    }

    [Fact]
    public async Task Api_UpdateNamingAnotherAddress_RefusedNamingBothAndNothingChanged()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("kept@lab.example.org", "diffusion");
        using var api = AdminTestKit.ApiClient(app);

        using var changed = await api.PutAsJsonAsync($"admin/api/subscribers/{reader.Id}", new { email = "other@lab.example.org", interests = "robots" }, Ct);
        using var sameInCapitals = await api.PutAsJsonAsync($"admin/api/subscribers/{reader.Id}", new { email = "Kept@Lab.Example.org", format = "text" }, Ct);

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.OK), (changed.StatusCode, sameInCapitals.StatusCode));
        Assert.Equal($"Subscriber {reader.Id} is kept@lab.example.org; an address cannot be changed. Add other@lab.example.org as a subscriber of its own.",
            (await changed.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Ct)).GetProperty("detail").GetString());
        var stored = (await app.Services.GetRequiredService<SubscriberStore>().GetAsync(reader.Id, Ct))!;
        Assert.Equal(("kept@lab.example.org", "diffusion", DigestFormat.Text), (stored.Email, stored.Interests, stored.Format));
    }
}
