using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Admin;
using Newsletter.Database;
using Newsletter.Digests;
using Newsletter.IntegrationTests.Web;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>A re-send is a new generation of ledger rows for exactly the scope's subscribers; earlier rows never change.</summary>
[Collection(SerialHangfireTests.Name)]
public sealed class ResendScopeTests
{
    private const string Generation1 =
        "select subscriber_id, status, paper_ids::text, attempts, smtp_reply, error, created_at, updated_at, sent_at from deliveries where generation = 1 order by id";

    [Fact]
    public async Task Resend_FailedScope_OnlyFailedAndDeferredSubscribersAndGeneration1Unchanged()
    {
        await using var app = await TestApp.BuildAsync();
        var (issue, ids) = await SentIssueAsync(app);
        var before = await app.RowsAsync(Generation1);

        var (requested, reached) = await ResendAsync(app, issue, GenerationScope.Failed, null);

        Assert.Equal(2, requested.Generation);
        Assert.Equal(2, requested.Recipients);
        Assert.Equal([ids["failed"], ids["deferred"]], reached);
        Assert.Equal(before, await app.RowsAsync(Generation1));
    }

    [Fact]
    public async Task Resend_NewScope_OnlySubscribersWithoutARowForTheIssue()
    {
        await using var app = await TestApp.BuildAsync();
        var (issue, ids) = await SentIssueAsync(app);
        var joined = (await app.AddSubscriberAsync("joined-later@lab.example.org")).Id;
        await app.AddSubscriberAsync("paused-later@lab.example.org", status: SubscriberStatus.Paused);
        var before = await app.RowsAsync(Generation1);

        var preview = await app.Services.GetRequiredService<Resender>().PreviewAsync(issue, GenerationScope.New, null, Ct);
        var (requested, reached) = await ResendAsync(app, issue, GenerationScope.New, null);

        Assert.Equal(1, preview.Recipients);
        Assert.Equal(2, preview.NextGeneration);
        Assert.Equal(1, requested.Recipients);
        Assert.Equal([joined], reached);
        Assert.DoesNotContain(ids.Values, reached.Contains);
        Assert.Equal(before, await app.RowsAsync(Generation1));
    }

    [Fact]
    public async Task Resend_OneScope_ThatAddressOnlyAndRecordsWhoAsked()
    {
        await using var app = await TestApp.BuildAsync();
        var (issue, ids) = await SentIssueAsync(app);
        var before = await app.RowsAsync(Generation1);

        var (requested, reached) = await ResendAsync(app, issue, GenerationScope.One, "SENT@lab.example.org");
        // That digest goes out before the next re-send, which would otherwise be refused as reaching them twice.
        await app.ExecuteAsync("update deliveries set status = 'sent', attempts = 1, sent_at = now() where generation = 2");
        var (second, reachedAgain) = await ResendAsync(app, issue, GenerationScope.All, null);

        Assert.Equal(1, requested.Recipients);
        Assert.Equal([ids["sent"]], reached);
        Assert.Equal(3, second.Generation);
        Assert.Equal(ids.Values.Order().ToList(), reachedAgain);
        Assert.Equal(["1 | issue | null | inbox", $"2 | one | {ids["sent"]} | admin:test", "3 | all | null | admin:test"],
            await app.RowsAsync(
                "select generation, scope, subscriber_id, requested_by from delivery_generations where issue_id = @issue order by generation", ("issue", issue)));
        Assert.Equal(before, await app.RowsAsync(Generation1));
        await Assert.ThrowsAsync<ResendRefusedException>(() => app.Services.GetRequiredService<Resender>()
            .RequestAsync(issue, GenerationScope.One, "nobody@lab.example.org", "admin:test", Ct));
    }

    /// <summary>The sample issue fanned out to four active subscribers, whose rows then ended sent, failed, deferred and sent.</summary>
    private static async Task<(long Issue, Dictionary<string, long> Ids)> SentIssueAsync(TestApp app)
    {
        var ids = new Dictionary<string, long>();
        foreach (var name in new[] { "sent", "failed", "deferred", "sent-too" })
        {
            ids[name] = (await app.AddSubscriberAsync($"{name}@lab.example.org")).Id;
        }
        var issue = await app.IngestSamplePapersSayingAsync("diffusion");
        await app.Services.GetRequiredService<FanOutJob>().RunAsync(issue, 1, Ct);
        await app.ExecuteAsync(
            """
            update deliveries d set status = case s.email when 'failed@lab.example.org' then 'failed' when 'deferred@lab.example.org' then 'deferred' else 'sent' end,
                attempts = 1, smtp_reply = '250 2.0.0 queued', updated_at = now(), sent_at = now()
            from subscribers s where s.id = d.subscriber_id and d.generation = 1
            """);
        return (issue, ids);
    }

    [Fact]
    public async Task Overview_AfterAReSentIssueWentOut_CountsEachReaderOnceByTheirLatestDigest()
    {
        // 4 readers: 2 sent, 1 failed and 1 deferred; both re-sent and delivered, then everyone re-sent once more.
        await using var app = await TestApp.BuildAsync();
        var (issue, _) = await SentIssueAsync(app);
        await ResendAsync(app, issue, GenerationScope.Failed, null);
        await app.ExecuteAsync("update deliveries set status = 'sent', sent_at = now() where generation = 2");
        await ResendAsync(app, issue, GenerationScope.All, null);
        await app.ExecuteAsync("update deliveries set status = 'sent', sent_at = now() where generation = 3");

        await using var web = await TestApp.StartAsync(connectionString: app.ConnectionString);
        using var api = AdminTestKit.ApiClient(web);

        // What the overview's row and the API's issue show.
        var shown = (await api.GetFromJsonAsync<System.Text.Json.JsonElement>($"admin/api/issues/{issue}", Ct)).GetProperty("issue");
        Assert.Equal(3, shown.GetProperty("generations").GetInt32());
        Assert.Equal("""{"sent":4}""", shown.GetProperty("deliveriesByStatus").GetRawText());
    }

    [Fact]
    public async Task Resend_FailedScope_TheEarlierDeferredRowIsNotRetriedOnceReSent()
    {
        await using var app = await TestApp.BuildAsync();
        var (issue, ids) = await SentIssueAsync(app);
        await ResendAsync(app, issue, GenerationScope.Failed, null);

        // Generation 1's retry comes due: the re-send has that reader covered, so they do not get the issue twice.
        await app.ExecuteAsync("update deliveries set next_attempt_at = now() - interval '1 minute' where status = 'deferred'");
        var ledger = app.Services.GetRequiredService<DeliveryLedger>();
        var (from, to) = Assert.Single(await ledger.OpenBatchesAsync(issue, 1, 500, Ct));
        var work = await ledger.ReadBatchAsync(issue, 1, from, to, Ct);

        Assert.Empty(work);
        Assert.Equal("skipped: superseded by a later re-send of this issue",
            await app.ScalarAsync<string>($"select status || ': ' || error from deliveries where generation = 1 and subscriber_id = {ids["deferred"]}"));
        Assert.Equal("pending", await app.ScalarAsync<string>($"select status from deliveries where generation = 2 and subscriber_id = {ids["deferred"]}"));
    }

    [Theory]
    [InlineData(GenerationScope.New)]
    [InlineData(GenerationScope.Failed)]
    public async Task Resend_NewOrFailedBeforeTheIssueIsFannedOut_RefusedWithTheReason(GenerationScope scope)
    {
        // Before its fan-out nobody has a row for the issue: "new" would be everyone, who then got it twice.
        await using var app = await TestApp.BuildAsync();
        await app.AddSubscriberAsync("reader@lab.example.org");
        var issue = await app.IngestSamplePapersSayingAsync("diffusion");

        var refused = await Assert.ThrowsAsync<ResendRefusedException>(() =>
            app.Services.GetRequiredService<Resender>().RequestAsync(issue, scope, null, "admin:test", Ct));

        Assert.Equal($"Issue {issue} is still being fanned out (generation 1): re-send to new or failed subscribers once it is.", refused.Message);
        Assert.Equal(1L, await app.ScalarAsync<long>($"select count(*) from delivery_generations where issue_id = {issue}"));
    }

    [Fact]
    public async Task Resend_OneScopeToAPausedReader_TheDigestIsSent()
    {
        // The admin may send one paused reader an issue (they asked for it); the reader stays paused for the daily ones.
        await using var app = await TestApp.StartWithSmtpAsync();
        var paused = await app.AddSubscriberAsync("paused@lab.example.org", "diffusion", SubscriberStatus.Paused);
        var issue = await app.IngestSamplePapersSayingAsync("diffusion");

        var requested = await app.Services.GetRequiredService<Resender>().RequestAsync(issue, GenerationScope.One, paused.Email, "admin:test", Ct);
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(issue, expectedRows: 1), "the re-send to settle");

        Assert.Equal("sent", (await app.Ledger.StatusByEmailAsync(issue, requested.Generation))[paused.Email]);
        Assert.Equal("paused@lab.example.org", Assert.Single(app.Smtp.Received).Recipients.Single());
        Assert.Equal("paused", await WebTestData.StatusOfAsync(app, paused.Id));
    }

    [Theory]
    [InlineData("weekly")]
    [InlineData("issue")]
    [InlineData("2")]
    [InlineData("fortnightly")]
    public async Task ResendPage_AScopeTheApiRefuses_400WithTheReasonAndNothingRequested(string scope)
    {
        // Weekly and issue are the scopes the weekly run and the inbox write: 'weekly' sent a weekly reader one issue out of turn.
        await using var app = await TestApp.StartAsync();
        await app.AddSubscriberAsync("reader@lab.example.org", "diffusion");
        var issue = await app.IngestSamplePapersSayingAsync("diffusion");
        using var admin = await AdminTestKit.SignedInClientAsync(app);
        var token = await Antiforgery.TokenAsync(admin, $"admin/issues/{issue}/resend");
        var before = await app.RowsAsync("select generation, scope from delivery_generations order by generation");

        using var preview = await admin.GetAsync($"admin/issues/{issue}/resend?scope={scope}&email=reader%40lab.example.org&preview=1", Ct);
        using var post = await admin.PostAsync($"admin/issues/{issue}/resend", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["scope"] = scope, ["email"] = "reader@lab.example.org", ["__RequestVerificationToken"] = token,
        }), Ct);
        var previewPage = await preview.Content.ReadAsStringAsync(Ct);
        var postPage = await post.Content.ReadAsStringAsync(Ct);

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (preview.StatusCode, post.StatusCode));
        Assert.Contains($"scope must be one of one, all, failed, new; not &#x27;{scope}&#x27;.", previewPage, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"confirm\"", previewPage, StringComparison.Ordinal);
        Assert.Contains($"scope must be one of one, all, failed, new; not &#x27;{scope}&#x27;.", postPage, StringComparison.Ordinal);
        Assert.Equal(before, await app.RowsAsync("select generation, scope from delivery_generations order by generation"));
    }

    [Theory]
    [InlineData(GenerationScope.Weekly)]
    [InlineData(GenerationScope.Issue)]
    public async Task Resend_AScopeOnlyTheWeeklyRunOrTheInboxWrites_Refused(GenerationScope scope)
    {
        await using var app = await TestApp.BuildAsync();
        await app.AddSubscriberAsync("reader@lab.example.org", "diffusion");
        var issue = await app.IngestSamplePapersSayingAsync("diffusion");
        var resender = app.Services.GetRequiredService<Resender>();

        var previewRefused = await Assert.ThrowsAsync<ResendRefusedException>(() => resender.PreviewAsync(issue, scope, null, Ct));
        var requestRefused = await Assert.ThrowsAsync<ResendRefusedException>(() => resender.RequestAsync(issue, scope, null, "admin:test", Ct));

        Assert.Equal($"scope must be one of one, all, failed, new; not '{DbNames.ToDb(scope)}'.", requestRefused.Message);
        Assert.Equal(previewRefused.Message, requestRefused.Message);
        Assert.Equal(1L, await app.ScalarAsync<long>($"select count(*) from delivery_generations where issue_id = {issue}"));
    }

    [Fact]
    public async Task Resend_AllWhileTheFirstGenerationIsStillPending_RefusedAndEachReaderGetsTheIssueOnce()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await TestApp.BuildAsync(smtp);
        // Generation 1's digests wait for their send batch when the admin presses re-send.
        var issue = await PendingIssueAsync(app, "first@lab.example.org", "second@lab.example.org");

        var refused = await Record.ExceptionAsync(() =>
            app.Services.GetRequiredService<Resender>().RequestAsync(issue, GenerationScope.All, null, "admin:test", Ct));
        await SendEveryGenerationAsync(app, issue);

        Assert.Equal(["first@lab.example.org: 1", "second@lab.example.org: 1"], CopiesByReader(smtp));
        Assert.Equal(
            $"Not re-sent: 2 of the 2 subscriber(s) it would reach still have issue {issue} on its way (generation 1). Re-send once that has gone out, so nobody gets the issue twice.",
            Assert.IsType<ResendRefusedException>(refused).Message);
        Assert.Equal(1L, await app.ScalarAsync<long>($"select count(*) from delivery_generations where issue_id = {issue}"));
    }

    [Fact]
    public async Task Resend_OneWhoseDigestIsStillPending_RefusedNamingThemWhileAReaderWhoseDigestWentOutIsReSent()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await TestApp.BuildAsync(smtp);
        var issue = await PendingIssueAsync(app, "waiting@lab.example.org", "done@lab.example.org");
        // Half-way through generation 1: one digest has gone out (to a server not captured here), the other is pending.
        await app.ExecuteAsync(
            "update deliveries d set status = 'sent', attempts = 1, sent_at = now() from subscribers s where s.id = d.subscriber_id and s.email = 'done@lab.example.org'");
        var resender = app.Services.GetRequiredService<Resender>();

        var refused = await Record.ExceptionAsync(() => resender.RequestAsync(issue, GenerationScope.One, "waiting@lab.example.org", "admin:test", Ct));
        var requested = await resender.RequestAsync(issue, GenerationScope.One, "done@lab.example.org", "admin:test", Ct);
        await SendEveryGenerationAsync(app, issue);

        Assert.Equal(["done@lab.example.org: 1", "waiting@lab.example.org: 1"], CopiesByReader(smtp));
        Assert.Equal(
            $"Not re-sent: waiting@lab.example.org still has issue {issue} on its way (generation 1). Re-send once it has gone out, so they do not get it twice.",
            Assert.IsType<ResendRefusedException>(refused).Message);
        Assert.Equal(2, requested.Generation);
    }

    [Theory]
    [InlineData(GenerationScope.All)]
    [InlineData(GenerationScope.One)]
    [InlineData(GenerationScope.Failed)]
    public async Task Resend_WhileARetryIsNotYetDue_TheRetryComingDueBeforeTheReSendIsFannedOutIsSupersededAndTheReaderGetsTheIssueOnce(GenerationScope scope)
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await TestApp.BuildAsync(smtp);
        var issue = await PendingIssueAsync(app, "waiting@lab.example.org");
        // Generation 1's digest was refused once and waits for its retry, an hour away: the re-send is accepted.
        await app.ExecuteAsync("update deliveries set status = 'deferred', attempts = 1, next_attempt_at = now() + interval '1 hour'");
        await app.Services.GetRequiredService<Resender>().RequestAsync(issue, scope, scope == GenerationScope.One ? "waiting@lab.example.org" : null, "admin:test", Ct);

        // The retry comes due before the re-send's fan-out has written its rows, and its batch runs first.
        await app.ExecuteAsync("update deliveries set next_attempt_at = now() - interval '1 minute'");
        await SendEveryGenerationAsync(app, issue);

        Assert.Equal(["waiting@lab.example.org: 1"], CopiesByReader(smtp));
        Assert.Equal("skipped: superseded by a later re-send of this issue",
            await app.ScalarAsync<string>("select status || ': ' || error from deliveries where generation = 1"));
    }

    [Fact]
    public async Task Resend_FailedWhileItsFanOutIsPlanning_ARetryComingDueThenIsSupersededAndTheReaderGetsTheIssueOnce()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await TestApp.BuildAsync(smtp);
        var issue = await PendingIssueAsync(app, "waiting@lab.example.org");
        await app.ExecuteAsync("update deliveries set status = 'deferred', attempts = 1, next_attempt_at = now() + interval '1 hour'");
        var requested = await app.Services.GetRequiredService<Resender>().RequestAsync(issue, GenerationScope.Failed, null, "admin:test", Ct);

        // The re-send's fan-out has read who it reaches and has not written its rows yet (the test holds its generation's row) ...
        await using var holder = await app.OpenConnectionAsync();
        await using var hold = await holder.BeginTransactionAsync(Ct);
        await using (var row = new Npgsql.NpgsqlCommand(
            $"select 1 from delivery_generations where issue_id = {issue} and generation = {requested.Generation} for update", holder, hold))
        {
            await row.ExecuteNonQueryAsync(Ct);
        }
        var fanOut = app.Services.GetRequiredService<FanOutJob>().RunAsync(issue, requested.Generation, Ct);
        await Eventually.WaitAsync(async () => await app.ScalarAsync<long>(
            "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and query like '%fanned_out_at is not null%'") > 0,
            "the fan-out waiting to write its rows");
        // ... when generation 1's retry comes due and its batch runs.
        await app.ExecuteAsync("update deliveries set next_attempt_at = now() - interval '1 minute' where generation = 1");
        var ledger = app.Services.GetRequiredService<DeliveryLedger>();
        var (from, to) = Assert.Single(await ledger.OpenBatchesAsync(issue, 1, 500, Ct));
        await app.Services.GetRequiredService<SendBatchJob>().RunAsync(issue, 1, from, to, Ct);
        await hold.RollbackAsync(Ct);
        await fanOut.WaitAsync(Eventually.DefaultTimeout, Ct);
        await SendEveryGenerationAsync(app, issue);

        Assert.Equal(["waiting@lab.example.org: 1"], CopiesByReader(smtp));
    }

    [Fact]
    public async Task ResendPage_FanOutNotStartedLongAfterTheRequest_SaysSoAndTheAdminStartsItAgain()
    {
        // Its fan-out job deleted in the dashboard, a re-send showed "Waiting for the fan-out." with no end in sight, while
        // the retries it superseded were skipped.
        await using var app = await TestApp.StartAsync();
        await FannedOutGeneration.CreateAsync(app, subscribers: 1);
        await app.ExecuteAsync(
            "insert into delivery_generations (issue_id, generation, scope, requested_by, requested_at) values (1, 2, 'all', 'admin:admin', @at)",
            ("at", FannedOutGeneration.At));
        using var admin = await AdminTestKit.SignedInClientAsync(app);
        var progress = await admin.GetStringAsync("admin/issues/1/resend?generation=2", Ct);
        var token = Antiforgery.TokenIn(progress);

        using var started = await admin.PostAsync("admin/issues/1/resend?handler=fanout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["generation"] = "2", ["__RequestVerificationToken"] = token,
        }), Ct);
        var after = await admin.GetStringAsync(started.Headers.Location!.OriginalString, Ct);

        Assert.Contains("has not started", progress, StringComparison.Ordinal);
        Assert.Contains("handler=fanout", progress, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, started.StatusCode);
        Assert.Contains("fan-out of generation 2 is queued again", after, StringComparison.Ordinal);
        Assert.Equal(1L, await app.ScalarAsync<long>(
            "select count(*) from hangfire.job where invocationdata::text like '%FanOutJob%'"));
    }

    [Theory]
    [InlineData("two", "generation: 'two' is not a generation number.")]
    [InlineData(null, "generation: missing; it is the re-send's number.")]
    public async Task ResendPage_StartTheFanOutAgainWithoutAGenerationNumber_400NamingItAndNothingQueued(string? generation, string error)
    {
        // A hand-made request: without the check it read as generation 0 and said "Generation 0 has no fan-out left to start".
        await using var app = await TestApp.StartAsync();
        await FannedOutGeneration.CreateAsync(app, subscribers: 1);
        using var admin = await AdminTestKit.SignedInClientAsync(app);
        var token = Antiforgery.TokenIn(await admin.GetStringAsync("admin/issues/1/resend?generation=1", Ct));
        var form = new Dictionary<string, string> { ["__RequestVerificationToken"] = token };
        if (generation is not null)
        {
            form["generation"] = generation;
        }

        using var posted = await admin.PostAsync("admin/issues/1/resend?handler=fanout", new FormUrlEncodedContent(form), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, posted.StatusCode);
        Assert.Contains(error, WebUtility.HtmlDecode(await posted.Content.ReadAsStringAsync(Ct)), StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from hangfire.job where invocationdata::text like '%FanOutJob%'"));
    }

    [Fact]
    public async Task ResendPageApiAndCommand_AllBeforeTheIssueHasGoneOut_RefusedAsTryLaterSayingWhatIsOnItsWayAndNothingRequested()
    {
        // No worker: the issue's first generation waits for its fan-out, which will reach the reader.
        await using var app = await TestApp.StartAsync();
        await app.AddSubscriberAsync("reader@lab.example.org", "diffusion");
        var issue = await app.IngestSamplePapersSayingAsync("diffusion");
        using var admin = await AdminTestKit.SignedInClientAsync(app);
        using var api = AdminTestKit.ApiClient(app);
        var token = await Antiforgery.TokenAsync(admin, $"admin/issues/{issue}/resend");
        var expected = $"Not re-sent: 1 of the 1 subscriber(s) it would reach still have issue {issue} on its way (generation 1). Re-send once that has gone out, so nobody gets the issue twice.";

        using var preview = await admin.GetAsync($"admin/issues/{issue}/resend?scope=all&preview=1", Ct);
        using var post = await admin.PostAsync($"admin/issues/{issue}/resend", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["scope"] = "all", ["email"] = "", ["__RequestVerificationToken"] = token,
        }), Ct);
        using var fromApi = await api.PostAsJsonAsync($"admin/api/issues/{issue}/resend", new { scope = "all" }, Ct);
        var fromCommand = await AppCommand.RunAsync(["resend", "--issue", $"{issue}", "--all"], app.Settings);
        var previewPage = System.Net.WebUtility.HtmlDecode(await preview.Content.ReadAsStringAsync(Ct));
        var postPage = System.Net.WebUtility.HtmlDecode(await post.Content.ReadAsStringAsync(Ct));

        // 409 and exit 75 (EX_TEMPFAIL): the same request goes once the issue is out, where bad input would be 400 and 1.
        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Conflict, HttpStatusCode.Conflict), (preview.StatusCode, post.StatusCode, fromApi.StatusCode));
        Assert.Equal((75, $"newsletter resend: {expected}"), (fromCommand.ExitCode, Assert.Single(fromCommand.Errors)));
        Assert.Contains(expected, previewPage, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"confirm\"", previewPage, StringComparison.Ordinal);
        Assert.Contains(expected, postPage, StringComparison.Ordinal);
        Assert.Equal(expected, (await fromApi.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Ct)).GetProperty("detail").GetString());
        Assert.Equal(1L, await app.ScalarAsync<long>($"select count(*) from delivery_generations where issue_id = {issue}"));
    }

    [Fact]
    public async Task ResendPageApiAndCommand_ToAnAddressNoSubscriberHas_RefusedAsBadInputAndNothingRequested()
    {
        await using var app = await TestApp.StartAsync();
        var issue = await app.IngestSamplePapersSayingAsync("diffusion");
        using var admin = await AdminTestKit.SignedInClientAsync(app);
        using var api = AdminTestKit.ApiClient(app);
        var token = await Antiforgery.TokenAsync(admin, $"admin/issues/{issue}/resend");
        const string expected = "No subscriber has the address nobody@lab.example.org.";

        using var post = await admin.PostAsync($"admin/issues/{issue}/resend", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["scope"] = "one", ["email"] = "nobody@lab.example.org", ["__RequestVerificationToken"] = token,
        }), Ct);
        using var fromApi = await api.PostAsJsonAsync($"admin/api/issues/{issue}/resend", new { scope = "one", email = "nobody@lab.example.org" }, Ct);
        var fromCommand = await AppCommand.RunAsync(["resend", "--issue", $"{issue}", "--email", "nobody@lab.example.org"], app.Settings);

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (post.StatusCode, fromApi.StatusCode));
        Assert.Contains(expected, System.Net.WebUtility.HtmlDecode(await post.Content.ReadAsStringAsync(Ct)), StringComparison.Ordinal);
        Assert.Equal(expected, (await fromApi.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Ct)).GetProperty("detail").GetString());
        Assert.Equal((1, $"newsletter resend: {expected}"), (fromCommand.ExitCode, Assert.Single(fromCommand.Errors)));
        Assert.Equal(1L, await app.ScalarAsync<long>($"select count(*) from delivery_generations where issue_id = {issue}"));
    }

    /// <summary>The sample issue fanned out to these readers, every digest of it still pending.</summary>
    private static async Task<long> PendingIssueAsync(TestApp app, params string[] emails)
    {
        foreach (var email in emails)
        {
            await app.AddSubscriberAsync(email, "diffusion");
        }
        var issue = await app.IngestSamplePapersSayingAsync("diffusion");
        await app.Services.GetRequiredService<FanOutJob>().RunAsync(issue, 1, Ct);
        return issue;
    }

    private static List<string> CopiesByReader(SmtpCapture smtp) =>
        [.. smtp.Received.GroupBy(m => m.Recipients.Single()).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}: {g.Count()}")];

    /// <summary>Fans out and sends every generation of the issue, oldest first, as a worker would.</summary>
    private static async Task SendEveryGenerationAsync(TestApp app, long issue)
    {
        var ledger = app.Services.GetRequiredService<DeliveryLedger>();
        var generations = await app.ReadAsync("select generation from delivery_generations where issue_id = @issue order by generation",
            reader => reader.GetInt32(0), ("issue", issue));
        foreach (var generation in generations)
        {
            await app.Services.GetRequiredService<FanOutJob>().RunAsync(issue, generation, Ct);
            foreach (var (from, to) in await ledger.OpenBatchesAsync(issue, generation, 500, Ct))
            {
                await app.Services.GetRequiredService<SendBatchJob>().RunAsync(issue, generation, from, to, Ct);
            }
        }
    }

    private static async Task<(ResendRequested Requested, List<long> Reached)> ResendAsync(TestApp app, long issue, GenerationScope scope, string? email)
    {
        var requested = await app.Services.GetRequiredService<Resender>().RequestAsync(issue, scope, email, "admin:test", Ct);
        await app.Services.GetRequiredService<FanOutJob>().RunAsync(issue, requested.Generation, Ct);
        var reached = await app.ReadAsync(
            "select subscriber_id from deliveries where issue_id = @issue and generation = @generation order by subscriber_id",
            reader => reader.GetInt64(0), ("issue", issue), ("generation", requested.Generation));
        return (requested, reached);
    }
}
