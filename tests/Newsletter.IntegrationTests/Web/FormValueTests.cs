using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Web;

/// <summary>A posted value that is none of a field's choices is refused by name, never saved as the field's default.</summary>
public sealed class FormValueTests
{
    [Theory]
    [InlineData("Format", "Pdf")]
    [InlineData("Suggestions", "abc")]
    [InlineData("Frequency", "Fortnightly")]
    [InlineData("Weekday", "Funday")]
    [InlineData("NoRepeats", "maybe")]
    public async Task ManagePost_AValueThatIsNoChoice_400NamingItWithWhatWasTypedAndNothingSaved(string field, string value)
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("reader@example.org", "diffusion", format: DigestFormat.Text);
        var store = app.Services.GetRequiredService<SubscriberStore>();
        var saved = ReaderChoices.Default with { Suggestions = 3, Frequency = DigestFrequency.Weekly, Weekday = DayOfWeek.Friday, NoRepeats = false };
        await store.UpdateChoicesAsync(reader.Id, saved, Ct);
        var manage = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Manage);
        using var client = app.CreateClient(useCookies: false);
        var form = new Dictionary<string, string>
        {
            ["Interests"] = "robotics", ["Format"] = "Text", ["Suggestions"] = "3", ["Frequency"] = "Weekly", ["Weekday"] = "Friday",
            ["TimeZone"] = "Asia/Tokyo", ["NoRepeats"] = "false",
        };
        form[field] = value;

        using var post = await client.PostAsync($"manage/{manage}", new FormUrlEncodedContent(form), Ct);
        var page = await post.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Contains($"{field}: &#x27;{value}&#x27; is not one of its choices", page, StringComparison.Ordinal);
        Assert.Contains("Nothing was saved.", page, StringComparison.Ordinal);
        Assert.Contains("value=\"robotics\"", page, StringComparison.Ordinal);
        Assert.Contains("value=\"Asia/Tokyo\"", page, StringComparison.Ordinal);
        Assert.Contains("<option value=\"Friday\" selected=\"selected\">", page, StringComparison.Ordinal);
        Assert.Contains("value=\"Text\" checked=\"checked\"", page, StringComparison.Ordinal);
        Assert.Equal(("diffusion", DigestFormat.Text), ((await store.GetAsync(reader.Id, Ct))!.Interests, (await store.GetAsync(reader.Id, Ct))!.Format));
        Assert.Equal(saved, await store.GetChoicesAsync(reader.Id, Ct));
    }

    [Fact]
    public async Task SubscribePost_AFormatThatIsNoChoice_400NamingItAndNothingStored()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateClient();
        var token = Antiforgery.TokenIn(await client.GetStringAsync("subscribe", Ct));

        using var response = await client.PostAsync("subscribe", new FormUrlEncodedContent(
        [
            new("__RequestVerificationToken", token), new("Email", "ada@lab.example.org"), new("Interests", "diffusion"), new("Format", "Pdf"),
        ]), Ct);
        var page = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Format: &#x27;Pdf&#x27; is not one of its choices", page, StringComparison.Ordinal);
        Assert.Contains("value=\"ada@lab.example.org\"", page, StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscribers"));
    }
    [Fact]
    public async Task SubscribePost_AFormTheServerCannotRead_400SayingTheRequestDidNotWork()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateClient();
        var token = Antiforgery.TokenIn(await client.GetStringAsync("subscribe", Ct));

        // More fields than a form may have: the form is never read, and the status page must not read it either.
        using var response = await client.PostAsync("subscribe", new FormUrlEncodedContent(
        [
            new("__RequestVerificationToken", token), new("Email", "ada@lab.example.org"), new("Interests", "diffusion"),
            .. Enumerable.Range(0, 1100).Select(i => new KeyValuePair<string, string>($"f{i}", "x")),
        ]), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("That request did not work", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SubscribePost_AFormOfAMegabyte_413AndNothingStored(bool multipart)
    {
        // The server's own limit is 30 MB: anyone could make the subscribe page read and keep that much, per request.
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateClient();
        var token = Antiforgery.TokenIn(await client.GetStringAsync("subscribe", Ct));
        KeyValuePair<string, string>[] fields =
        [
            new("__RequestVerificationToken", token), new("Email", "ada@lab.example.org"), new("Interests", "diffusion"),
            new("Padding", new string('x', 1024 * 1024)),
        ];
        using var multipartForm = new MultipartFormDataContent();
        foreach (var (name, value) in fields)
        {
            multipartForm.Add(new StringContent(value), name);
        }

        using var response = await client.PostAsync("subscribe", multipart ? multipartForm : new FormUrlEncodedContent(fields), Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("Nothing was saved", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscribers"));
    }

    [Theory]
    [InlineData("Interests", "robot\0arm", "An invisible control character (U+0000) at character 6")]
    [InlineData("Email", "ada\0@lab.example.org", "The address holds an invisible character (U+0000)")]
    [InlineData("Format", "Ht\0ml", "Format: holds a character it cannot take (U+0000)")]
    public async Task SubscribePost_AFieldWithANulCharacter_400NamingItWithWhatWasTypedKept(string field, string value, string error)
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.CreateClient();
        var token = Antiforgery.TokenIn(await client.GetStringAsync("subscribe", Ct));
        var form = new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["Email"] = "ada@lab.example.org", ["Interests"] = "diffusion", ["Format"] = "Text",
        };
        form[field] = value;

        using var response = await client.PostAsync("subscribe", new FormUrlEncodedContent(form), Ct);
        var page = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(error, WebUtility.HtmlDecode(page), StringComparison.Ordinal);
        Assert.Contains(field == "Email" ? "value=\"ada&#x0;@lab.example.org\"" : "value=\"ada@lab.example.org\"", page, StringComparison.Ordinal);
        Assert.Contains(field == "Interests" ? "value=\"robot&#x0;arm\"" : "value=\"diffusion\"", page, StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscribers"));
    }

    [Fact]
    public async Task ManagePost_InterestsWithANulCharacter_400MarkingItAndNothingSaved()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("reader@example.org", "diffusion");
        var manage = await WebTestData.TokenAsync(app, reader.Id, TokenPurpose.Manage);
        using var client = app.CreateClient(useCookies: false);
        var form = new Dictionary<string, string>
        {
            ["Interests"] = "robot\0arm", ["Format"] = "Text", ["Suggestions"] = "3", ["Frequency"] = "Daily", ["Weekday"] = "Monday",
            ["TimeZone"] = "", ["NoRepeats"] = "true",
        };

        using var post = await client.PostAsync($"manage/{manage}", new FormUrlEncodedContent(form), Ct);
        var page = await post.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Contains("An invisible control character (U+0000) at character 6", WebUtility.HtmlDecode(page), StringComparison.Ordinal);
        Assert.Contains("value=\"robot&#x0;arm\"", page, StringComparison.Ordinal);
        Assert.Equal("diffusion", (await app.Services.GetRequiredService<SubscriberStore>().GetAsync(reader.Id, Ct))!.Interests);
    }
}
