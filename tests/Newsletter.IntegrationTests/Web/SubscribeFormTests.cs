using System.Net;

namespace Newsletter.IntegrationTests.Web;

/// <summary>The sign-up form's answers to an address it cannot take.</summary>
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
}
