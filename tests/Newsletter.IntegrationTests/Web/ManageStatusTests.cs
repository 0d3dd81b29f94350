using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Web;

/// <summary>The manage page's pause, resume and unsubscribe buttons say what they did, and when they did nothing, why.</summary>
public sealed class ManageStatusTests
{
    [Fact]
    public async Task ManagePost_ResumeOrPauseOnceUnsubscribed_SaysNothingChangedAndTheStatus()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("reader@example.org", "diffusion");
        var manage = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Manage);
        // As from a second tab that still shows the buttons of before.
        using var client = app.CreateClient(useCookies: false);
        async Task<string> PressAsync(string button)
        {
            using var response = await client.PostAsync($"manage/{manage}?handler={button}", new FormUrlEncodedContent([]), Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync(Ct);
        }

        var paused = await PressAsync("Pause");
        var pausedAgain = await PressAsync("Pause");
        var unsubscribed = await PressAsync("Unsubscribe");
        var resumed = await PressAsync("Resume");
        var pausedUnsubscribed = await PressAsync("Pause");

        Assert.Contains("Paused. No digests until you resume.", paused, StringComparison.Ordinal);
        Assert.Contains("Your subscription was already paused.", pausedAgain, StringComparison.Ordinal);
        Assert.Contains("You are unsubscribed and will get no more digests.", unsubscribed, StringComparison.Ordinal);
        Assert.DoesNotContain("Resumed.", resumed, StringComparison.Ordinal);
        Assert.Contains("Not resumed, because your subscription is unsubscribed.", resumed, StringComparison.Ordinal);
        Assert.Contains("Not paused, because your subscription is unsubscribed.", pausedUnsubscribed, StringComparison.Ordinal);
        Assert.Equal("unsubscribed", await WebTestData.StatusOfAsync(app, reader.Id));
    }

    [Fact]
    public async Task ManageGet_AddressAfterConfirmingOpenedOnceUnsubscribedOrPaused_DoesNotSayConfirmed()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("reader@example.org", "diffusion");
        var manage = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Manage);
        // The address a confirmation leads to, kept as a bookmark: the reader's only manage link until a digest comes.
        using var client = app.CreateClient(useCookies: false);
        var address = $"manage/{manage}?confirmed=true";

        var active = await client.GetStringAsync(address, Ct);
        await app.Services.GetRequiredService<SubscriberStore>().TransitionAsync(reader.Id, [SubscriberStatus.Active], SubscriberStatus.Paused, Ct);
        var paused = await client.GetStringAsync(address, Ct);
        await app.Services.GetRequiredService<SubscriberStore>().TransitionAsync(reader.Id, [SubscriberStatus.Paused], SubscriberStatus.Unsubscribed, Ct);
        var unsubscribed = await client.GetStringAsync(address, Ct);

        Assert.Contains("Your subscription is confirmed.", active, StringComparison.Ordinal);
        Assert.DoesNotContain("Your subscription is confirmed.", paused, StringComparison.Ordinal);
        Assert.Contains("<strong id=\"status\">paused</strong>", paused, StringComparison.Ordinal);
        Assert.DoesNotContain("Your subscription is confirmed.", unsubscribed, StringComparison.Ordinal);
        Assert.DoesNotContain("Digests start with the next issue.", unsubscribed, StringComparison.Ordinal);
        Assert.Contains("<strong id=\"status\">unsubscribed</strong>", unsubscribed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ManagePost_SaveOnceUnsubscribed_SavesWithoutPromisingANextDigest()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("reader@example.org", "diffusion", SubscriberStatus.Unsubscribed);
        var manage = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Manage);
        using var client = app.CreateClient(useCookies: false);

        using var response = await client.PostAsync($"manage/{manage}", new FormUrlEncodedContent(
            [new("Interests", "robotics"), new("Format", "Html"), new("Suggestions", "5"), new("Frequency", "Daily"),
             new("Weekday", "Monday"), new("TimeZone", ""), new("NoRepeats", "true")]), Ct);
        var page = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("The next digest uses these settings.", page, StringComparison.Ordinal);
        Assert.Contains("Saved. No digests go to this address now; these settings apply if you subscribe again.", page, StringComparison.Ordinal);
        Assert.Equal("robotics", await app.ScalarAsync<string>("select interests from subscribers"));
    }
}
