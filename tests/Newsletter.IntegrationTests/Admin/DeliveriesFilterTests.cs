using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>
/// An issue's deliveries filtered by status, on the issue page and through the API: a status in any case lists its
/// deliveries; a word that is no status is refused, naming it, rather than answering with every delivery or none.
/// </summary>
public sealed class DeliveriesFilterTests
{
    [Theory]
    [InlineData("faild")]
    [InlineData("failed,sent")]
    [InlineData("4")]
    public async Task IssuePageAndApi_StatusThatIsNoStatus_400NamingItInsteadOfAllOrNone(string status)
    {
        // The page listed every delivery and the API none, so a script read "nothing failed".
        await using var app = await TestApp.StartAsync();
        await OneFailedOneSentAsync(app);
        using var admin = await AdminTestKit.SignedInClientAsync(app);
        using var api = AdminTestKit.ApiClient(app);

        using var page = await admin.GetAsync($"admin/issues/1?status={Uri.EscapeDataString(status)}", Ct);
        var pageText = await page.Content.ReadAsStringAsync(Ct);
        using var fromApi = await api.GetAsync($"admin/api/issues/1/deliveries?status={Uri.EscapeDataString(status)}", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Contains($"&#x27;{WebUtility.HtmlEncode(status)}&#x27; is not a delivery status", pageText, StringComparison.Ordinal);
        Assert.DoesNotContain("@test.example", pageText, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, fromApi.StatusCode);
        Assert.Equal("application/problem+json", fromApi.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"'{status}'", (await fromApi.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task IssuePageAndApi_StatusInCapitals_ListsThatStatusOnly()
    {
        // The subscribers filter takes any case; this one listed every delivery on the page and none through the API.
        await using var app = await TestApp.StartAsync();
        var (failed, sent) = await OneFailedOneSentAsync(app);
        using var admin = await AdminTestKit.SignedInClientAsync(app);
        using var api = AdminTestKit.ApiClient(app);

        using var page = await admin.GetAsync("admin/issues/1?status=Failed", Ct);
        var pageText = await page.Content.ReadAsStringAsync(Ct);
        var fromApi = await api.GetFromJsonAsync<JsonElement>("admin/api/issues/1/deliveries?status=Failed", Ct);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains(failed, pageText, StringComparison.Ordinal);
        Assert.DoesNotContain(sent, pageText, StringComparison.Ordinal);
        Assert.Equal([failed], fromApi.EnumerateArray().Select(d => d.GetProperty("email").GetString()!));
    }

    [Theory]
    [InlineData("admin/issues/1?generation=abc", "generation", "a generation number")]
    [InlineData("admin/issues/1?generation=1.5", "generation", "a generation number")]
    [InlineData("admin/issues/1?offset=ten", "offset", "a row number")]
    [InlineData("admin/issues/1/resend?generation=abc", "generation", "a generation number")]
    public async Task IssuePages_NumberThatIsNoNumber_400NamingItInsteadOfEveryDelivery(string path, string field, string what)
    {
        // The value was dropped: the page listed every generation's deliveries, or the resend form, as if none was asked for.
        await using var app = await TestApp.StartAsync();
        await OneFailedOneSentAsync(app);
        using var admin = await AdminTestKit.SignedInClientAsync(app);

        using var page = await admin.GetAsync(path, Ct);
        var pageText = await page.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        var value = WebUtility.HtmlEncode(path[(path.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        Assert.Contains($"{field}: &#x27;{value}&#x27; is not {what}", pageText, StringComparison.Ordinal);
        Assert.DoesNotContain("@test.example", pageText, StringComparison.Ordinal);
    }

    /// <summary>Issue 1 with two deliveries: the first reader's failed, the second's sent; returns their addresses.</summary>
    private static async Task<(string Failed, string Sent)> OneFailedOneSentAsync(TestApp app)
    {
        var deliveries = await FannedOutGeneration.CreateAsync(app, subscribers: 2);
        await app.ExecuteAsync("update deliveries set status = case when id = @failed then 'failed' else 'sent' end", ("failed", deliveries[0]));
        return ("reader1@test.example", "reader2@test.example");
    }
}
