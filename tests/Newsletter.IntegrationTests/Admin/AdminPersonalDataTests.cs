using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Admin;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Bounces;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>
/// "Export their data first", then "Delete with all personal data": the export holds every row kept about the reader, and
/// after the delete their address is nowhere in the database, while other readers' rows stay.
/// </summary>
public sealed class AdminPersonalDataTests
{
    private static readonly DateTimeOffset At = new(2025, 3, 12, 9, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task ExportJson_ReaderWithARowInEveryTable_EveryTableWithTheirIdAndTheirMailAppear()
    {
        await using var app = await TestApp.StartWithSmtpAsync(settings: ReportSettings);
        var (reader, other, issueId) = await ReadersWithEverythingAsync(app);
        using var admin = await AdminTestKit.SignedInClientAsync(app);

        using var response = await admin.GetAsync($"admin/subscribers/{reader.Id}/export.json", Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        var export = JsonDocument.Parse(text).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Every table that keeps rows by subscriber_id, this one and any added later, has its own list in the export.
        var tables = await app.RowsAsync(
            "select table_name from information_schema.columns where table_schema = current_schema() and column_name = 'subscriber_id' order by 1");
        Assert.NotEmpty(tables);
        foreach (var table in tables)
        {
            var property = string.Concat(table.Split('_').Select((word, i) => i == 0 ? word : char.ToUpperInvariant(word[0]) + word[1..]));
            Assert.True(export.TryGetProperty(property, out var rows) && rows.ValueKind == JsonValueKind.Array && rows.GetArrayLength() > 0,
                $"the export has no rows under \"{property}\" for table {table}:\n{text}");
        }
        Assert.Equal(reader.Email, export.GetProperty("email").GetString());
        var choices = export.GetProperty("choices");
        Assert.Equal(("weekly", "wednesday", "Asia/Tokyo", false, 3),
            (choices.GetProperty("frequency").GetString(), choices.GetProperty("weekday").GetString(), choices.GetProperty("timeZone").GetString(),
                choices.GetProperty("noRepeats").GetBoolean(), choices.GetProperty("suggestions").GetInt32()));
        Assert.Equal(At, export.GetProperty("weeklySince").GetDateTimeOffset());
        var delivery = export.GetProperty("deliveries")[0];
        var sentTitles = delivery.GetProperty("sentPapers").EnumerateArray().Select(p => p.GetProperty("title").GetString() ?? "").ToList();
        Assert.Equal(await app.RowsAsync(
            "select p.title from deliveries d, unnest(d.paper_ids) with ordinality as s(paper_id, n) join papers p on p.id = s.paper_id where d.subscriber_id = @id order by s.n",
            ("id", reader.Id)), sentTitles);
        Assert.Equal(sentTitles[0], export.GetProperty("readerVotes")[0].GetProperty("title").GetString());
        var bounce = export.GetProperty("bounces")[0];
        Assert.Equal(reader.Email, bounce.GetProperty("recipient").GetString());
        Assert.Contains("over quota", bounce.GetProperty("diagnostic").GetString(), StringComparison.Ordinal);
        Assert.Contains("CONFIRM1", export.GetProperty("confirmationMails")[0].GetProperty("reply").GetString(), StringComparison.Ordinal);
        Assert.Equal("one", export.GetProperty("deliveryGenerations")[0].GetProperty("scope").GetString());
        Assert.Equal(issueId, export.GetProperty("weeklyDigests")[0].GetProperty("issueId").GetInt64());
        // The delivery report about their digest and their out-of-office reply, as stored.
        var mail = export.GetProperty("inboundMessages").EnumerateArray().ToList();
        Assert.Equal(["auto_reply", "report"], mail.Select(m => m.GetProperty("status").GetString()).Order());
        Assert.All(mail, m => Assert.Contains(reader.Email, m.GetProperty("message").GetString(), StringComparison.Ordinal));
        Assert.DoesNotContain(other.Email, text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task DeletePage_ReaderWithReportsAndAnAutoReply_TheirAddressIsNowhereAndOthersRowsStay()
    {
        await using var app = await TestApp.StartWithSmtpAsync(settings: ReportSettings);
        var (reader, other, issueId) = await ReadersWithEverythingAsync(app);
        // A report about another address (the reader forwarded their digest there) that names the reader only in its
        // text, in capitals: it matched no delivery, and stayed after the reader was deleted.
        var forwarded = BounceTests.Sample("gmail-over-quota.eml", (BounceTests.SampleRecipient, "forward-target@example.net"),
            ("See technical details below", $"It was forwarded by {reader.Email.ToUpperInvariant()}. See technical details below"),
            ("<67d0431d.050a0220.1a2b3c.4d5eGMR@mx.google.com>", "<forwarded@mx.example.org>"));
        var outcome = await app.Services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(forwarded, forwarded.Length, "test"), Ct);
        Assert.Equal(IngestStatus.Report, outcome.Status);
        using var admin = await AdminTestKit.SignedInClientAsync(app);

        using var deleted = await admin.PostAsync($"admin/subscribers/{reader.Id}?handler=delete", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["confirm"] = "true", ["__RequestVerificationToken"] = await Antiforgery.TokenAsync(admin, $"admin/subscribers/{reader.Id}"),
        }), Ct);

        Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);
        Assert.Empty(await PlacesHoldingAsync(app, reader.Email));
        Assert.Empty(await PlacesHoldingAsync(app, reader.Email.ToUpperInvariant()));
        // The other reader's report and bounce, the listing and its issue are untouched.
        Assert.NotEmpty(await PlacesHoldingAsync(app, other.Email));
        Assert.Equal(["ingested", "report"], await app.RowsAsync("select status from inbound_messages order by status"));
        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from bounces where subscriber_id = @id", ("id", other.Id)));
        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from issues where id = @id", ("id", issueId)));
    }

    [Fact]
    public async Task Delete_ReportOfAnotherReadersBounceThatNamesThem_IsErasedWhileThatBounceStillCounts()
    {
        await using var app = await TestApp.StartWithSmtpAsync(settings: ReportSettings);
        var reader = await app.AddSubscriberAsync($"reader-{Guid.NewGuid():N}@example.org", "diffusion");
        var other = await app.AddSubscriberAsync($"other-{Guid.NewGuid():N}@example.org", "diffusion");
        var issueId = await app.IngestSamplePapersSayingAsync("diffusion");
        var digests = await app.Smtp.WaitForMessagesAsync(2, cancellationToken: Ct);
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(issueId, 2), "both digests to be recorded as sent");
        // The other reader's digest bounced, and the report quotes the reader's address (they forwarded it there).
        var report = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(
                BounceTests.Report("gmail-over-quota.eml", digests.Single(d => d.Recipients.Contains(other.Email)).Parse(), other.Email, 1))
            .Replace("See technical details below", $"It was forwarded by {reader.Email}. See technical details below", StringComparison.Ordinal));
        var outcome = await app.Services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(report, report.Length, "test"), Ct);
        Assert.Equal(IngestStatus.Report, outcome.Status);

        Assert.True(await app.Services.GetRequiredService<SubscriberStore>().DeleteAsync(reader.Id, Ct));

        Assert.Empty(await PlacesHoldingAsync(app, reader.Email));
        Assert.Equal([(long?)null], await app.ReadAsync("select inbound_message_id from bounces where subscriber_id = @id",
            r => r.IsDBNull(0) ? null : (long?)r.GetInt64(0), ("id", other.Id)));
    }

    [Fact]
    public async Task Delete_ReportNamingALongerAddressEndingLikeTheirs_StaysOutOfTheirExportAndTheDelete()
    {
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync($"ann-{Guid.NewGuid():N}@example.org", "diffusion");
        // About someone else ("jo" + their address): a report that matched nothing, and not about this reader.
        var report = BounceTests.Sample("gmail-over-quota.eml", (BounceTests.SampleRecipient, "jo" + reader.Email));
        Assert.Equal(IngestStatus.Report, (await app.Services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(report, report.Length, "test"), Ct)).Status);

        var export = await app.Services.GetRequiredService<AdminPersonalData>().ExportAsync(reader.Id, Ct);
        await app.Services.GetRequiredService<SubscriberStore>().DeleteAsync(reader.Id, Ct);

        Assert.Empty(export!.InboundMessages);
        Assert.Equal(["report"], await app.RowsAsync("select status from inbound_messages"));
    }

    private static Dictionary<string, string?> ReportSettings => new() { ["Newsletter:Mail:BounceDomain"] = "bounces.lab.test.example" };

    /// <summary>
    /// Two readers sent the day's digest, each answered by a delivery report; the first also by an out-of-office reply, and
    /// with a row in every other table that keeps something about a reader.
    /// </summary>
    private static async Task<(Subscriber Reader, Subscriber Other, long IssueId)> ReadersWithEverythingAsync(TestApp app)
    {
        var reader = await app.AddSubscriberAsync($"reader-{Guid.NewGuid():N}@example.org", "diffusion");
        var other = await app.AddSubscriberAsync($"other-{Guid.NewGuid():N}@example.org", "diffusion");
        var issueId = await app.IngestSamplePapersSayingAsync("diffusion");
        var digests = await app.Smtp.WaitForMessagesAsync(2, cancellationToken: Ct);
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(issueId, 2), "both digests to be recorded as sent");
        var ingestor = app.Services.GetRequiredService<MessageIngestor>();
        var answers = new[]
        {
            BounceTests.Report("gmail-over-quota.eml", digests.Single(d => d.Recipients.Contains(reader.Email)).Parse(), reader.Email, 1),
            BounceTests.Report("gmail-over-quota.eml", digests.Single(d => d.Recipients.Contains(other.Email)).Parse(), other.Email, 2),
            BounceTests.Sample("exchange-automatic-reply.eml", (BounceTests.SampleRecipient, reader.Email)),
        };
        foreach (var answer in answers)
        {
            var outcome = await ingestor.IngestAsync(new InboundMail(answer, answer.Length, "test"), Ct);
            Assert.True(outcome.Status is IngestStatus.Report or IngestStatus.AutoReply, $"{outcome.Status}: {outcome.Reason}");
        }
        await app.ExecuteAsync(
            """
            update subscribers set frequency = 'weekly', weekday = 3, time_zone = 'Asia/Tokyo', no_repeats = false, suggestions = 3, weekly_since = @at
            where id = @id;
            insert into reader_votes (subscriber_id, paper_id, vote, delivery_id, voted_at)
            select subscriber_id, paper_ids[1], 1, id, @at from deliveries where subscriber_id = @id;
            insert into subscriber_feeds (subscriber_id, token_hash, created_at) values (@id, '\x0102', @at);
            insert into subscriber_tokens (token_hash, subscriber_id, purpose, created_at) values ('\x0304', @id, 'manage', @at);
            insert into confirmation_mails (subscriber_id, status, reply, created_at, finished_at) values (@id, 'sent', '250 2.0.0 Ok: queued as CONFIRM1', @at, @at);
            insert into delivery_generations (issue_id, generation, scope, subscriber_id, requested_by, requested_at, fanned_out_at)
            values (@issue, 2, 'one', @id, 'admin:test', @at, @at);
            insert into weekly_digests (subscriber_id, week_of, issue_id, generation, ends_at) values (@id, '2025-03-12', @issue, 1, @at);
            """,
            ("id", reader.Id), ("issue", issueId), ("at", At));
        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from bounces where subscriber_id = @id", ("id", reader.Id)));
        return (reader, other, issueId);
    }

    /// <summary>"table.column" of every text, text[] and bytea column of the schema that holds <paramref name="email"/> in some row.</summary>
    private static async Task<List<string>> PlacesHoldingAsync(TestApp app, string email)
    {
        var columns = await app.ReadAsync(
            """
            select table_name, column_name, data_type from information_schema.columns
            where table_schema = current_schema() and data_type in ('text', 'ARRAY', 'bytea')
            """,
            r => (Table: r.GetString(0), Column: r.GetString(1), Type: r.GetString(2)));
        var places = new List<string>();
        foreach (var (table, column, type) in columns)
        {
            var holds = type == "bytea"
                ? $"position(convert_to(@email, 'UTF8') in \"{column}\") > 0"
                : $"strpos(lower(\"{column}\"::text), lower(@email)) > 0";
            if (await app.ScalarAsync<long>($"select count(*) from \"{table}\" where {holds}", ("email", email)) > 0)
            {
                places.Add($"{table}.{column}");
            }
        }
        return places;
    }
}
