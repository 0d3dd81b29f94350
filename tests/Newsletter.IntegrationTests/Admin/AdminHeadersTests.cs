namespace Newsletter.IntegrationTests.Admin;

/// <summary>What the admin area answers with is never stored by a browser or proxy, pages and exports alike.</summary>
public sealed class AdminHeadersTests
{
    [Fact]
    public async Task SignedIn_PagesExportsAndApi_AnsweredWithNoStoreAndNoReferrer()
    {
        await using var app = await TestApp.StartAsync();
        var delivery = (await FannedOutGeneration.CreateAsync(app, subscribers: 1))[0];
        var reader = await app.ScalarAsync<long>("select subscriber_id from deliveries where id = @id", ("id", delivery));
        using var admin = await AdminTestKit.SignedInClientAsync(app);
        using var api = AdminTestKit.ApiClient(app);

        var answers = new List<string>();
        foreach (var (client, path) in new[]
        {
            (admin, $"admin/subscribers/{reader}"), (admin, $"admin/deliveries/{delivery}/digest"), (admin, "admin/subscribers/export.csv"),
            (admin, $"admin/subscribers/{reader}/export.json"), (api, $"admin/api/subscribers/{reader}/personal-data"), (api, "admin/api/subscribers/export"),
        })
        {
            using var response = await client.GetAsync(path, Ct);
            answers.Add($"{path}: {(int)response.StatusCode} no-store={response.Headers.CacheControl?.NoStore == true} "
                + $"referrer={string.Join(",", response.Headers.TryGetValues("Referrer-Policy", out var policy) ? policy : [])}");
        }

        Assert.All(answers, answer => Assert.EndsWith(": 200 no-store=True referrer=no-referrer", answer, StringComparison.Ordinal));
        // The digest keeps its own policy: shown under the admin origin, it runs nothing.
        using var digest = await admin.GetAsync($"admin/deliveries/{delivery}/digest", Ct);
        Assert.EndsWith("; sandbox", string.Join(",", digest.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
    }
}
