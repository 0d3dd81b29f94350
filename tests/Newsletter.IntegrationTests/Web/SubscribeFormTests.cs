using System.Globalization;
using System.Net;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Web;

/// <summary>The sign-up form's answers to an address or interests it cannot take.</summary>
public sealed class SubscribeFormTests
{
    [Fact]
    public async Task SubscribePost_AddressWithZeroWidthSpace_400SayingSoAndNothingStored()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateClient();
        var token = Antiforgery.TokenIn(await client.GetStringAsync("subscribe", Ct));

        // Looks like ada@lab.example.org: a zero-width space came along when it was copied.
        using var response = await client.PostAsync("subscribe", new FormUrlEncodedContent(
        [
            new("__RequestVerificationToken", token), new("Email", "ada\u200B@lab.example.org"), new("Interests", "diffusion"), new("Format", "Html"),
        ]), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invisible character", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscribers"));
    }

    [Theory]
    [InlineData("reader@[127.0.0.1]")]
    [InlineData("reader@[10.0.0.7]")]
    [InlineData("reader@[IPv6:::1]")]
    public async Task SubscribePost_AddressAtAnIpLiteral_400AndNoMailQueued(string address)
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateClient();
        var token = Antiforgery.TokenIn(await client.GetStringAsync("subscribe", Ct));

        // Whoever types it would have the relay carry a confirmation mail to a host of their choosing, inside the network too.
        using var response = await client.PostAsync("subscribe", new FormUrlEncodedContent(
        [
            new("__RequestVerificationToken", token), new("Email", address), new("Interests", "diffusion"), new("Format", "Html"),
        ]), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Enter an email address like name@example.org.", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscribers"));
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from confirmation_mails"));
    }

    [Theory]
    [InlineData("\U0001F680")]
    [InlineData("\U0001F1E9\U0001F1EA")]
    public async Task SubscribePreview_InterestsWithATermOfOnlyAnEmoji_ErrorMarksTheEmojiAsTyped(string emoji)
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateClient();
        var token = Antiforgery.TokenIn(await client.GetStringAsync("subscribe", Ct));

        // The emoji has no letters to look for: the error shows the line with it marked.
        using var response = await client.PostAsync("subscribe?handler=Preview", new FormUrlEncodedContent(
        [
            new("__RequestVerificationToken", token), new("Email", ""), new("Interests", $"diffusion {emoji} model"), new("Format", "Html"),
        ]), Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);

        Assert.Contains("has no letters or digits", html, StringComparison.Ordinal);
        Assert.Contains($"<code class=\"typed\" dir=\"auto\">diffusion <mark>{HtmlEncoder.Default.Encode(emoji)}</mark> model</code>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("&#xFFFD;", html, StringComparison.Ordinal);
    }
    [Fact]
    public async Task SubscribePreview_ALineOfFewerThanFiveHundredCharactersWithEmoji_TakenAndTheInputHoldsIt()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateClient();
        var token = Antiforgery.TokenIn(await client.GetStringAsync("subscribe", Ct));
        // 494 characters on screen, 854 UTF-16 units (what a browser's maxlength counts).
        var line = string.Join(' ', Enumerable.Repeat("ab" + string.Concat(Enumerable.Repeat("\U0001F680", 8)), 45));

        using var response = await client.PostAsync("subscribe?handler=Preview", new FormUrlEncodedContent(
        [
            new("__RequestVerificationToken", token), new("Email", ""), new("Interests", line), new("Format", "Html"),
        ]), Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);

        Assert.DoesNotContain("limited to", html, StringComparison.Ordinal);
        var maxLength = int.Parse(Regex.Match(html, "id=\"interests\"[^>]* maxlength=\"(\\d+)\"").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(maxLength >= line.Length, $"maxlength {maxLength} cuts the line of {line.Length} UTF-16 units");
    }
    [Fact]
    public async Task PersonalPages_ARightToLeftLine_IsTypedAndShownInItsOwnDirection()
    {
        await using var app = await TestApp.StartAsync();
        // "deep learning" in Hebrew, then a Latin word: without dir="auto" the line is laid out left to right, its words reversed.
        const string Line = "\u05DC\u05DE\u05D9\u05D3\u05D4 \u05E2\u05DE\u05D5\u05E7\u05D4 transformer";
        var reader = await app.AddSubscriberAsync("reader@example.org", Line, SubscriberStatus.Pending);
        var confirm = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Confirm, DateTimeOffset.UtcNow.AddDays(1));
        var manage = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Manage);
        using var client = app.CreateClient();
        var token = Antiforgery.TokenIn(await client.GetStringAsync("subscribe", Ct));

        var subscribe = await client.GetStringAsync("subscribe", Ct);
        var managePage = await client.GetStringAsync($"manage/{manage}", Ct);
        var confirmPage = await client.GetStringAsync($"confirm/{confirm}", Ct);
        using var preview = await client.PostAsync("subscribe?handler=Preview", new FormUrlEncodedContent(
        [
            new("__RequestVerificationToken", token), new("Email", ""), new("Interests", Line + " \""), new("Format", "Html"),
        ]), Ct);
        var previewPage = await preview.Content.ReadAsStringAsync(Ct);

        Assert.Matches("<input id=\"interests\"[^>]* dir=\"auto\"", subscribe);
        Assert.Matches("<input id=\"interests\"[^>]* dir=\"auto\"", managePage);
        Assert.Contains($"<code dir=\"auto\">{HtmlEncoder.Default.Encode(Line)}</code>", confirmPage, StringComparison.Ordinal);
        Assert.Contains("<code class=\"typed\" dir=\"auto\">", previewPage, StringComparison.Ordinal);
    }
    [Fact]
    public async Task SubscribePost_PastTheHourlyMailLimit_SaysNothingWasSentAndWhenToTryAgain()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
        await using var app = await TestApp.StartAsync(services: services => services.AddSingleton<TimeProvider>(clock));
        var reader = await app.AddSubscriberAsync("ada@lab.example.org", "diffusion", SubscriberStatus.Pending);
        // The form was sent three times in the last hour: the hour's three mails went.
        foreach (var minutesAgo in new[] { 40, 25, 10 })
        {
            await app.ExecuteAsync("insert into confirmation_mails (subscriber_id, created_at) values (@id, @at)",
                ("id", reader.Id), ("at", clock.GetUtcNow().AddMinutes(-minutesAgo)));
        }
        using var client = app.CreateClient();
        var token = Antiforgery.TokenIn(await client.GetStringAsync("subscribe", Ct));

        using var response = await client.PostAsync("subscribe", new FormUrlEncodedContent(
        [
            new("__RequestVerificationToken", token), new("Email", "ada@lab.example.org"), new("Interests", "diffusion"), new("Format", "Html"),
        ]), Ct);
        var page = System.Net.WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync(Ct));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Contains("Too many mails went to this address this hour: nothing was sent. Try again after 09:20 (UTC).", page, StringComparison.Ordinal);
        Assert.DoesNotContain("on its way", page, StringComparison.Ordinal);
        Assert.Equal(3L, await app.ScalarAsync<long>("select count(*) from confirmation_mails"));
    }
}
