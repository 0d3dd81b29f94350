using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>The subscribers page: the add form as the admin sees it after a mistake.</summary>
public sealed class SubscribersPageTests
{
    [Fact]
    public async Task AddSubscriber_InterestsSyntaxError_FormShownAgainWithEveryFieldAsTyped()
    {
        await using var app = await TestApp.StartAsync();
        using var client = await AdminTestKit.SignedInClientAsync(app);
        var token = await Antiforgery.TokenAsync(client, "admin/subscribers");

        using var refused = await client.PostAsync("admin/subscribers?handler=add", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = "typed@lab.example.org", ["interests"] = "diffusion OR", ["format"] = "text", ["__RequestVerificationToken"] = token,
        }), Ct);
        var page = await refused.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("Interests:", page, StringComparison.Ordinal);
        Assert.Contains("value=\"typed@lab.example.org\"", page, StringComparison.Ordinal);
        Assert.Contains("value=\"diffusion OR\"", page, StringComparison.Ordinal);
        Assert.Contains("<option value=\"text\" selected=\"selected\">", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<option value=\"html\" selected=\"selected\">", page, StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscribers"));
    }

    [Fact]
    public async Task AddSubscriber_AnAddressThatUnsubscribedOrBounced_UpdatedButNotSubscribedAgain_PageAndCommandSaySo()
    {
        // "Add" used to make any address already there active: a reader who had unsubscribed got digests again.
        await using var app = await TestApp.StartAsync();
        var gone = await app.AddSubscriberAsync("gone@lab.example.org", "robotics", SubscriberStatus.Unsubscribed);
        var bounced = await app.AddSubscriberAsync("bounced@lab.example.org", "robotics", SubscriberStatus.Bounced);
        var pending = await app.AddSubscriberAsync("pending@lab.example.org", "robotics", SubscriberStatus.Pending);
        using var client = await AdminTestKit.SignedInClientAsync(app);
        var token = await Antiforgery.TokenAsync(client, "admin/subscribers");

        using var added = await client.PostAsync("admin/subscribers?handler=add", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = "Gone@lab.example.org", ["interests"] = "diffusion", ["format"] = "html", ["__RequestVerificationToken"] = token,
        }), Ct);
        var page = await client.GetStringAsync(added.Headers.Location!.ToString().TrimStart('/'), Ct);
        var command = await AppCommand.RunAsync(["subscribers", "add", "bounced@lab.example.org", "--interests", "diffusion"], app.Settings);
        var vouched = await AppCommand.RunAsync(["subscribers", "add", "pending@lab.example.org"], app.Settings);

        Assert.Equal(HttpStatusCode.Redirect, added.StatusCode);
        Assert.Contains("gone@lab.example.org was already there: updated. They unsubscribed, and stay unsubscribed", page,
            StringComparison.Ordinal);
        Assert.True(command.ExitCode == 0, string.Join('\n', command.Errors));
        Assert.Contains($"updated: bounced@lab.example.org (id {bounced.Id}, bounced,", command.Output, StringComparison.Ordinal);
        Assert.Contains("stays bounced", command.Output, StringComparison.Ordinal);
        Assert.Contains($"updated: pending@lab.example.org (id {pending.Id}, active,", vouched.Output, StringComparison.Ordinal);
        var store = app.Services.GetRequiredService<SubscriberStore>();
        var (goneNow, bouncedNow, pendingNow) = ((await store.GetAsync(gone.Id, Ct))!, (await store.GetAsync(bounced.Id, Ct))!, (await store.GetAsync(pending.Id, Ct))!);
        Assert.Equal((SubscriberStatus.Unsubscribed, "diffusion"), (goneNow.Status, goneNow.Interests));
        Assert.Equal((SubscriberStatus.Bounced, "diffusion"), (bouncedNow.Status, bouncedNow.Interests));
        Assert.Equal(SubscriberStatus.Active, pendingNow.Status);
    }

    [Fact]
    public async Task AddSubscriber_FormatThatIsNoChoice_400NamingItAndAddsNobody()
    {
        // The format used to be read as html, the default, and the subscriber added.
        await using var app = await TestApp.StartAsync();
        using var client = await AdminTestKit.SignedInClientAsync(app);
        var token = await Antiforgery.TokenAsync(client, "admin/subscribers");

        using var refused = await client.PostAsync("admin/subscribers?handler=add", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = "typed@lab.example.org", ["interests"] = "diffusion", ["format"] = "pdf", ["__RequestVerificationToken"] = token,
        }), Ct);
        var page = await refused.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("format: &#x27;pdf&#x27; is not one of its choices.", page, StringComparison.Ordinal);
        Assert.Contains("value=\"typed@lab.example.org\"", page, StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscribers"));
    }

    [Fact]
    public async Task Import_AFileOverTheServersDefault30Megabytes_AllImportedAndCountedOnThePage()
    {
        const int Readers = 75_000;
        await using var app = await TestApp.StartAsync();
        using var client = await AdminTestKit.SignedInClientAsync(app);
        var token = await Antiforgery.TokenAsync(client, "admin/subscribers");
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(token), "__RequestVerificationToken");
        form.Add(new ByteArrayContent(LargeCsv(Readers)), "file", "subscribers.csv");

        using var response = await client.PostAsync("admin/subscribers?handler=import", form, Ct);
        var page = await response.Content.ReadAsStringAsync(Ct);

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {page[..Math.Min(page.Length, 500)]}");
        Assert.Contains($"{Readers} added, 0 updated, 0 row(s) left out.", page, StringComparison.Ordinal);
        Assert.Equal(Readers, await app.ScalarAsync<long>("select count(*) from subscribers"));
    }

    [Fact]
    public async Task ImportOverTheApi_AFileOverTheServersDefault30Megabytes_AllImported()
    {
        const int Readers = 75_000;
        await using var app = await TestApp.StartAsync();
        using var client = AdminTestKit.ApiClient(app);

        using var response = await client.PostAsync("admin/api/subscribers/import", new ByteArrayContent(LargeCsv(Readers)), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body[..Math.Min(body.Length, 500)]}");
        Assert.Contains($"\"created\":{Readers}", body, StringComparison.Ordinal);
        Assert.Equal(Readers, await app.ScalarAsync<long>("select count(*) from subscribers"));
    }

    [Fact]
    public async Task Import_AFileOverTheImportLimit_ImportPageSaysTheLimitAndTheCliVerb()
    {
        // The page and the API answered the server's bare 413.
        await using var app = await TestApp.StartAsync(settings: new Dictionary<string, string?> { ["Newsletter:Admin:MaxImportMegabytes"] = "1" });
        using var client = await AdminTestKit.SignedInClientAsync(app);
        using var api = AdminTestKit.ApiClient(app);
        var token = await Antiforgery.TokenAsync(client, "admin/subscribers");
        var tooLarge = SmallCsvOf(1024 * 1024 + 1);
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(token), "__RequestVerificationToken");
        form.Add(new ByteArrayContent(tooLarge), "file", "subscribers.csv");

        using var refused = await client.PostAsync("admin/subscribers?handler=import", form, Ct);
        using var page = await client.GetAsync(refused.Headers.Location, Ct);
        var pageText = await page.Content.ReadAsStringAsync(Ct);
        using var fromApi = await api.PostAsync("admin/api/subscribers/import", new ByteArrayContent(tooLarge), Ct);
        var apiText = await fromApi.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("larger than the import limit of 1 MB", pageText, StringComparison.Ordinal);
        Assert.Contains("newsletter subscribers import", pageText, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, fromApi.StatusCode);
        Assert.Contains("larger than the import limit of 1 MB", apiText, StringComparison.Ordinal);
        Assert.Contains("newsletter subscribers import", apiText, StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscribers"));
    }

    /// <summary>A CSV of short rows, at least <paramref name="bytes"/> long.</summary>
    private static byte[] SmallCsvOf(int bytes)
    {
        var csv = new System.Text.StringBuilder("email,interests\r\n");
        for (var i = 0; csv.Length < bytes; i++)
        {
            csv.Append("reader").Append(i).Append("@lab.example.org,diffusion\r\n");
        }
        return System.Text.Encoding.UTF8.GetBytes(csv.ToString());
    }

    /// <summary>A CSV of <paramref name="readers"/> rows with a long keyword line, about 450 bytes each: 75,000 of them are
    /// past the server's default 30 MB (few rows, so the import itself stays short).</summary>
    private static byte[] LargeCsv(int readers)
    {
        const string Line = "diffusion models, low-rank adaptation, mixture of experts, retrieval-augmented generation, vision language models, "
            + "reinforcement learning from human feedback, speculative decoding, state space models, neural radiance fields, gaussian "
            + "splatting, chain of thought reasoning, instruction tuning, parameter-efficient fine-tuning, multimodal large language "
            + "models, text-to-video generation, code generation benchmarks";
        var csv = new System.Text.StringBuilder("email,interests,status,format\r\n");
        for (var i = 0; i < readers; i++)
        {
            csv.Append("reader").Append(i).Append("@lab.example.org,\"").Append(Line).Append("\",active,html\r\n");
        }
        var bytes = System.Text.Encoding.UTF8.GetBytes(csv.ToString());
        Assert.True(bytes.Length > 30 * 1024 * 1024, $"the file is {bytes.Length:N0} bytes, not past the server's default");
        return bytes;
    }

    [Theory]
    [InlineData("actve")]
    [InlineData("active,paused")]
    [InlineData("1")]
    public async Task Search_StatusThatIsNoStatus_400NamingItInsteadOfAnotherList(string status)
    {
        // A misspelt filter listed every subscriber, and a list of two or a number listed another status's.
        await using var app = await TestApp.StartAsync();
        await app.AddSubscriberAsync("unsubscribed@lab.example.org", status: Newsletter.Subscribers.SubscriberStatus.Unsubscribed);
        await app.AddSubscriberAsync("active@lab.example.org");
        using var client = await AdminTestKit.SignedInClientAsync(app);

        using var response = await client.GetAsync($"admin/subscribers?status={Uri.EscapeDataString(status)}", Ct);
        var page = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(status, page, StringComparison.Ordinal);
        Assert.DoesNotContain("@lab.example.org", page, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("yes")]
    public async Task DeleteSubscriber_BoxNotTicked_400AskingToTickItAndDeletesNothing(string? confirm)
    {
        // The page came back 200 with the message out of sight, in the edit form.
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("kept@lab.example.org", "diffusion");
        using var client = await AdminTestKit.SignedInClientAsync(app);
        var token = await Antiforgery.TokenAsync(client, $"admin/subscribers/{reader.Id}");
        var form = new Dictionary<string, string> { ["__RequestVerificationToken"] = token };
        if (confirm is not null)
        {
            form["confirm"] = confirm;
        }

        using var refused = await client.PostAsync($"admin/subscribers/{reader.Id}?handler=delete", new FormUrlEncodedContent(form), Ct);
        var page = await refused.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var deleteForm = page[page.IndexOf("id=\"delete\"", StringComparison.Ordinal)..];
        Assert.Contains("tick the box to confirm", deleteForm, StringComparison.Ordinal);
        Assert.Contains("handler=delete", deleteForm, StringComparison.Ordinal);
        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from subscribers where email = 'kept@lab.example.org'"));
    }
}
