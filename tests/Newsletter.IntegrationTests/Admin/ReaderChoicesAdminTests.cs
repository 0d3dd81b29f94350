using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Admin;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>The admin sees and sets a reader's choices: on the subscriber page and through the API.</summary>
public sealed class ReaderChoicesAdminTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SubscriberPage_AdminSetsWeeklyInATimeZone_SavedAndShown()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("page@lab.example.org", "diffusion");
        using var client = await AdminTestKit.SignedInClientAsync(app);
        var token = await Antiforgery.TokenAsync(client, $"admin/subscribers/{reader.Id}");

        using var saved = await client.PostAsync($"admin/subscribers/{reader.Id}?handler=save", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["interests"] = "diffusion", ["status"] = "active", ["format"] = "html",
            ["frequency"] = "weekly", ["weekday"] = "wednesday", ["timeZone"] = "Asia/Tokyo", ["noRepeats"] = "false",
            ["__RequestVerificationToken"] = token,
        }), Ct);
        var page = await client.GetStringAsync($"admin/subscribers/{reader.Id}", Ct);
        var choices = await app.Services.GetRequiredService<SubscriberStore>().GetChoicesAsync(reader.Id, Ct);

        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal((DigestFrequency.Weekly, DayOfWeek.Wednesday, "Asia/Tokyo", false), (choices.Frequency, choices.Weekday, choices.TimeZone, choices.NoRepeats));
        Assert.Contains("<option value=\"weekly\" selected=\"selected\">", page, StringComparison.Ordinal);
        Assert.Contains("<option value=\"wednesday\" selected=\"selected\">", page, StringComparison.Ordinal);
        Assert.Contains("value=\"Asia/Tokyo\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubscriberPage_SaveWithAnUnknownTimeZone_SaysSoShowsWhatWasTypedAndSavesNothing()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("typo@lab.example.org", "diffusion");
        using var client = await AdminTestKit.SignedInClientAsync(app);
        var token = await Antiforgery.TokenAsync(client, $"admin/subscribers/{reader.Id}");

        using var refused = await client.PostAsync($"admin/subscribers/{reader.Id}?handler=save", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["interests"] = "robotics", ["status"] = "paused", ["format"] = "text",
            ["frequency"] = "weekly", ["weekday"] = "friday", ["timeZone"] = "Europe/Berln", ["noRepeats"] = "false",
            ["__RequestVerificationToken"] = token,
        }), Ct);
        var page = await refused.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("Europe/Berln", page, StringComparison.Ordinal);
        Assert.Contains("value=\"Europe/Berln\"", page, StringComparison.Ordinal);
        Assert.Contains("<option value=\"weekly\" selected=\"selected\">", page, StringComparison.Ordinal);
        Assert.Contains("<option value=\"friday\" selected=\"selected\">", page, StringComparison.Ordinal);
        Assert.Contains("<option value=\"paused\" selected=\"selected\">", page, StringComparison.Ordinal);
        Assert.Contains("<option value=\"text\" selected=\"selected\">", page, StringComparison.Ordinal);
        Assert.Contains("value=\"robotics\"", page, StringComparison.Ordinal);
        var saved = await app.Services.GetRequiredService<SubscriberStore>().GetAsync(reader.Id, Ct);
        Assert.Equal(("diffusion", SubscriberStatus.Active), (saved!.Interests, saved.Status));
    }

    [Theory]
    [InlineData("status", "Activ")]
    [InlineData("format", "pdf")]
    [InlineData("frequency", "fortnightly")]
    [InlineData("weekday", "funday")]
    [InlineData("noRepeats", "maybe")]
    public async Task SubscriberPage_SaveWithAValueThatIsNoChoice_400NamingItAndSavesNothing(string field, string value)
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("weekly@lab.example.org", "diffusion", format: DigestFormat.Text);
        var store = app.Services.GetRequiredService<SubscriberStore>();
        var saved = ReaderChoices.Default with { Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Friday, NoRepeats = false };
        await store.UpdateChoicesAsync(reader.Id, saved, Ct);
        using var client = await AdminTestKit.SignedInClientAsync(app);
        var form = new Dictionary<string, string>
        {
            ["interests"] = "robotics", ["status"] = "active", ["format"] = "text",
            ["frequency"] = "weekly", ["weekday"] = "friday", ["timeZone"] = "", ["noRepeats"] = "false",
            ["__RequestVerificationToken"] = await Antiforgery.TokenAsync(client, $"admin/subscribers/{reader.Id}"),
        };
        form[field] = value;

        using var refused = await client.PostAsync($"admin/subscribers/{reader.Id}?handler=save", new FormUrlEncodedContent(form), Ct);
        var page = await refused.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains($"{field}: &#x27;{value}&#x27; is not one of its choices", page, StringComparison.Ordinal);
        Assert.Contains("value=\"robotics\"", page, StringComparison.Ordinal);
        Assert.Contains("<option value=\"active\" selected=\"selected\">", page, StringComparison.Ordinal);
        Assert.Contains("<option value=\"friday\" selected=\"selected\">", page, StringComparison.Ordinal);
        var after = await store.GetAsync(reader.Id, Ct);
        Assert.Equal(("diffusion", SubscriberStatus.Active, DigestFormat.Text), (after!.Interests, after.Status, after.Format));
        Assert.Equal(saved, await store.GetChoicesAsync(reader.Id, Ct));
    }

    [Fact]
    public async Task Api_PutChoices_ChangesOnlyTheGivenOnesAndRefusesAnUnknownTimeZone()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("api@lab.example.org", "diffusion");
        using var api = AdminTestKit.ApiClient(app);

        using var put = await api.PutAsJsonAsync($"admin/api/subscribers/{reader.Id}/choices",
            new { frequency = "weekly", weekday = "sunday", timeZone = "Europe/Berlin" }, Ct);
        var read = await api.GetFromJsonAsync<ReaderChoicesDto>($"admin/api/subscribers/{reader.Id}/choices", Ct);
        using var refused = await api.PutAsJsonAsync($"admin/api/subscribers/{reader.Id}/choices", new { timeZone = "Mars/Olympus" }, Ct);
        using var missing = await api.GetAsync($"admin/api/subscribers/{reader.Id + 100}/choices", Ct);

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(new ReaderChoicesDto(5, "weekly", "sunday", "Europe/Berlin", true), read);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("Mars/Olympus", await refused.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("Europe/Berlin", (await app.Services.GetRequiredService<SubscriberStore>().GetChoicesAsync(reader.Id, Ct)).TimeZone);
    }
}
