using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Admin;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>Subscriber CSV both ways: RFC 4180, bad rows reported by line and left out, good rows kept, addresses updated in place.</summary>
public sealed class SubscriberCsvTests
{
    [Fact]
    public async Task Import_GoodAndBadRows_BadReportedByLineGoodKeptExistingUpdated()
    {
        await using var app = await TestApp.BuildAsync();
        var store = app.Services.GetRequiredService<SubscriberStore>();
        var existing = (await store.UpsertAsync("old@lab.example.org", "robotics", SubscriberStatus.Active, DigestFormat.Html, Ct)).Subscriber;
        await store.UpsertAsync("gone@lab.example.org", "robotics", SubscriberStatus.Unsubscribed, DigestFormat.Html, Ct);
        var csv = string.Join("\r\n",
            "email,interests,status,format",                       // 1
            "new1@lab.example.org,diffusion,,",                     // 2
            "not-an-email,diffusion,,",                             // 3
            "OLD@lab.example.org,\"vision, transformers\",paused,text", // 4
            "multi@lab.example.org,\"spans\ntwo lines\",,",        // 5-6
            "bad@lab.example.org,diffusion OR,,",                   // 7
            "worse@lab.example.org,x,zombie,",                      // 8
            "new2@lab.example.org,,,",                              // 9
            "gone@lab.example.org,robotics,,",                      // 10: keeps its unsubscribe
            "") ;

        var result = await app.Services.GetRequiredService<SubscriberCsv>().ImportAsync(new StringReader(csv), Ct);

        Assert.Equal(3, result.Created);
        Assert.Equal(2, result.Updated);
        Assert.Equal([3, 7, 8], result.Errors.Select(e => e.Line));
        Assert.Contains("not a valid address", result.Errors[0].Reason, StringComparison.Ordinal);
        Assert.Contains("OR", result.Errors[1].Reason, StringComparison.Ordinal);
        Assert.Contains("zombie", result.Errors[2].Reason, StringComparison.Ordinal);
        Assert.Equal(1L, await app.ScalarAsync<long>("select count(*) from subscribers where lower(email) = 'old@lab.example.org'"));
        var updated = await store.GetAsync(existing.Id, Ct);
        Assert.Equal((SubscriberStatus.Paused, DigestFormat.Text, InterestQuery.Parse("vision, transformers").ToString()),
            (updated!.Status, updated.Format, updated.Interests));
        Assert.Equal(SubscriberStatus.Active, (await store.FindByEmailAsync("new1@lab.example.org", Ct))!.Status);
        Assert.Equal(SubscriberStatus.Active, (await store.FindByEmailAsync("new2@lab.example.org", Ct))!.Status);
        Assert.Equal(InterestQuery.Parse("spans two lines").ToString(), (await store.FindByEmailAsync("multi@lab.example.org", Ct))!.Interests);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await store.FindByEmailAsync("gone@lab.example.org", Ct))!.Status);
        Assert.Null(await store.FindByEmailAsync("bad@lab.example.org", Ct));
        Assert.Equal(5L, await app.ScalarAsync<long>("select count(*) from subscribers"));
    }

    [Fact]
    public async Task Import_AnAddressOnTwoLines_TheEarlierReportedAsLeftOutSoEveryRowIsAccountedFor()
    {
        await using var app = await TestApp.BuildAsync();
        var csv = string.Join("\r\n",
            "email,interests",               // 1
            "twice@lab.example.org,diffusion", // 2: left out, line 4 is the one kept
            "once@lab.example.org,robotics",   // 3
            "TWICE@lab.example.org,vision",    // 4
            "");

        var result = await app.Services.GetRequiredService<SubscriberCsv>().ImportAsync(new StringReader(csv), Ct);

        // Three rows: two added and one left out, as the page then says.
        Assert.Equal((2, 0, 1), (result.Created, result.Updated, result.ErrorCount));
        var error = Assert.Single(result.Errors);
        Assert.Equal((2, "twice@lab.example.org", "the address is on line 4 too, and that later line is the one imported"),
            (error.Line, error.Email, error.Reason));
        Assert.Equal(InterestQuery.Parse("vision").ToString(),
            (await app.Services.GetRequiredService<SubscriberStore>().FindByEmailAsync("twice@lab.example.org", Ct))!.Interests);
    }

    [Fact]
    public async Task Import_ARowLongerThanTheReadersBuffer_ReportedByLineAndTheOthersImported()
    {
        await using var app = await TestApp.BuildAsync();
        var csv = string.Join("\r\n",
            "email,interests",
            "long@lab.example.org,\"" + string.Concat(Enumerable.Repeat("diffusion ", 10_000)) + "\"",
            "short@lab.example.org,robotics",
            "");

        var result = await app.Services.GetRequiredService<SubscriberCsv>().ImportAsync(new StringReader(csv), Ct);

        Assert.Equal((1, 0, 1), (result.Created, result.Updated, result.ErrorCount));
        Assert.Equal(2, Assert.Single(result.Errors).Line);
    }

    [Fact]
    public async Task Import_AQuoteLeftOpenBeforeMegabytesOfRows_RefusedSayingARowIsTooLongNotThatTheHeaderIsBroken()
    {
        await using var app = await TestApp.BuildAsync();
        var rows = Enumerable.Range(0, 40_000).Select(i => $"reader{i}@lab.example.org,robotics");
        var csv = string.Join("\r\n", ["email,interests", "open@lab.example.org,\"diffusion", .. rows, ""]);

        var refused = await Assert.ThrowsAsync<CsvImportException>(() => app.Services.GetRequiredService<SubscriberCsv>().ImportAsync(new StringReader(csv), Ct));

        Assert.Equal("a row near the start: the row is longer than 1,048,576 characters (a quote left open makes the rest of the file one field); nothing was imported.",
            refused.Message);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscribers"));
    }

    [Fact]
    public async Task Import_EmptyInterestsField_ExistingSubscriberKeepsTheirsNewOneGetsNone()
    {
        await using var app = await TestApp.BuildAsync();
        var store = app.Services.GetRequiredService<SubscriberStore>();
        var alice = (await store.UpsertAsync("alice@lab.example.org", "diffusion -medical", SubscriberStatus.Active, DigestFormat.Text, Ct)).Subscriber;
        var csv = string.Join("\r\n",
            "email,interests,status",
            "alice@lab.example.org,,paused",
            "fresh@lab.example.org,,",
            "");

        var result = await app.Services.GetRequiredService<SubscriberCsv>().ImportAsync(new StringReader(csv), Ct);

        var paused = await store.GetAsync(alice.Id, Ct);
        Assert.Equal((1, 1, 0), (result.Created, result.Updated, result.ErrorCount));
        Assert.Equal((SubscriberStatus.Paused, DigestFormat.Text, InterestQuery.Parse("diffusion -medical").ToString()),
            (paused!.Status, paused.Format, paused.Interests));
        Assert.Equal("", (await store.FindByEmailAsync("fresh@lab.example.org", Ct))!.Interests);
    }

    [Fact]
    public async Task Import_FieldNamingTwoChoices_RowReportedOthersImported()
    {
        await using var app = await TestApp.BuildAsync();
        var csv = string.Join("\r\n",
            "email,interests,status,format,frequency,weekday",   // 1
            "ok@lab.example.org,diffusion,,,,",                  // 2
            "both@lab.example.org,x,\"active,paused\",,,",       // 3: would be read as unsubscribed
            "clash@lab.example.org,x,\"active,bounced\",,,",     // 4: would be a status the database refuses
            "format@lab.example.org,x,,\"html,text\",,",         // 5
            "days@lab.example.org,x,,,weekly,\"monday,friday\"", // 6
            "last@lab.example.org,robotics,paused,,,",           // 7
            "");

        var result = await app.Services.GetRequiredService<SubscriberCsv>().ImportAsync(new StringReader(csv), Ct);

        Assert.Equal([3, 4, 5, 6], result.Errors.Select(e => e.Line));
        Assert.Contains("status 'active,paused'", result.Errors[0].Reason, StringComparison.Ordinal);
        Assert.Contains("status 'active,bounced'", result.Errors[1].Reason, StringComparison.Ordinal);
        Assert.Contains("format 'html,text'", result.Errors[2].Reason, StringComparison.Ordinal);
        Assert.Contains("weekday 'monday,friday'", result.Errors[3].Reason, StringComparison.Ordinal);
        Assert.Equal(2, result.Created);
        Assert.Equal(["last@lab.example.org", "ok@lab.example.org"], await app.RowsAsync("select email from subscribers order by email"));
    }

    [Fact]
    public async Task Import_AddressStartingWithHash_ImportedAndLaterLinesNumberedRight()
    {
        await using var app = await TestApp.BuildAsync();
        var csv = string.Join("\r\n",
            "email,interests",              // 1
            "ada@lab.example.org,diffusion", // 2
            "#team@lab.example.org,ml",      // 3: a valid address, not a comment
            "not-an-email,ml",               // 4
            "");

        var result = await app.Services.GetRequiredService<SubscriberCsv>().ImportAsync(new StringReader(csv), Ct);

        Assert.Equal(2, result.Created);
        Assert.Equal([4], result.Errors.Select(e => e.Line));
        Assert.Equal("ml", (await app.Services.GetRequiredService<SubscriberStore>().FindByEmailAsync("#team@lab.example.org", Ct))?.Interests);
    }

    [Fact]
    public async Task Import_LineStartingWithNul_FileRefusedRatherThanRowSkipped()
    {
        await using var app = await TestApp.BuildAsync();

        var error = await Assert.ThrowsAsync<CsvImportException>(() => app.Services.GetRequiredService<SubscriberCsv>()
            .ImportAsync(new StringReader("email,interests\r\nada@lab.example.org,x\r\n\0bob@lab.example.org,y\r\n"), Ct));

        Assert.Contains("NUL", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscribers"));
    }

    [Fact]
    public async Task Import_FileSavedAsWindows1252_RefusedNamingTheLineAndNothingImported()
    {
        await using var app = await TestApp.BuildAsync();
        // Excel on Windows saves "CSV" in Windows-1252: é is the single byte 0xE9, not UTF-8.
        byte[] file = [.. "email,interests\r\nada@lab.example.org,diffusion\r\n"u8, .. "jos"u8, 0xE9, .. "@lab.example.org,caf"u8, 0xE9, .. "\r\n"u8];
        using var reader = new StreamReader(new MemoryStream(file), SubscriberCsv.Utf8, detectEncodingFromByteOrderMarks: true);

        var error = await Assert.ThrowsAsync<CsvImportException>(() => app.Services.GetRequiredService<SubscriberCsv>().ImportAsync(reader, Ct));

        Assert.StartsWith("line 3 is not UTF-8", error.Message, StringComparison.Ordinal);
        Assert.Contains("CSV UTF-8", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscribers"));
    }

    [Fact]
    public async Task Import_AddressWithZeroWidthSpace_RowReportedNamingTheCharacter()
    {
        await using var app = await TestApp.BuildAsync();

        var result = await app.Services.GetRequiredService<SubscriberCsv>()
            .ImportAsync(new StringReader("email,interests\r\nada\u200B@lab.example.org,diffusion\r\n"), Ct);

        Assert.Equal((0, 2), (result.Imported, result.Errors.Single().Line));
        Assert.Contains("U+200B", result.Errors[0].Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Import_BrokenQuoteMidFile_RefusedNamingTheLineAndNothingImported(int brokenLine)
    {
        await using var app = await TestApp.BuildAsync();
        List<string> lines = ["email,interests", "ada@lab.example.org,diffusion", "cy@lab.example.org,robotics"];
        lines.Insert(brokenLine - 1, "bob@lab.example.org,\"vision\" transformers");

        var error = await Assert.ThrowsAsync<CsvImportException>(() => app.Services.GetRequiredService<SubscriberCsv>()
            .ImportAsync(new StringReader(string.Join("\r\n", lines) + "\r\n"), Ct));

        Assert.StartsWith($"line {brokenLine}:", error.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was imported", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscribers"));
    }

    [Fact]
    public async Task Import_WrongHeader_RefusedAndNothingImported()
    {
        await using var app = await TestApp.BuildAsync();

        var error = await Assert.ThrowsAsync<CsvImportException>(() => app.Services.GetRequiredService<SubscriberCsv>()
            .ImportAsync(new StringReader("address,keywords\r\na@lab.example.org,x\r\n"), Ct));

        Assert.StartsWith("line 1:", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscribers"));
    }

    [Fact]
    public async Task Export_InterestsWithCommasQuotesAndNewlines_QuotedPerRfc4180()
    {
        await using var app = await TestApp.BuildAsync();
        // Stored as typed, bypassing the canonical form, so the writer meets every character that needs quoting.
        await app.ExecuteAsync(
            """
            insert into subscribers (email, status, interests, format, created_at, updated_at) values
                ('plain@lab.example.org', 'active', 'diffusion', 'html', now(), now()),
                ('comma@lab.example.org', 'active', 'vision, language', 'text', now(), now()),
                ('quote@lab.example.org', 'paused', '"low-rank" adapters', 'html', now(), now()),
                ('newline@lab.example.org', 'active', E'first\nsecond', 'html', now(), now())
            """);
        var text = new StringWriter();

        await app.Services.GetRequiredService<SubscriberCsv>().ExportAsync(text, null, Ct);

        Assert.Equal(
            "\uFEFFemail,interests,status,format,frequency,weekday,time_zone,no_repeats\r\n"
            + "plain@lab.example.org,diffusion,active,html,daily,monday,,true\r\n"
            + "comma@lab.example.org,\"vision, language\",active,text,daily,monday,,true\r\n"
            + "quote@lab.example.org,\"\"\"low-rank\"\" adapters\",paused,html,daily,monday,,true\r\n"
            + "newline@lab.example.org,\"first\nsecond\",active,html,daily,monday,,true\r\n",
            text.ToString());
    }

    [Fact]
    public async Task Export_CellsAFormulaCouldStartWith_QuotedForSpreadsheetsAndImportedBackUnchanged()
    {
        await using var from = await TestApp.BuildAsync();
        await using var to = await TestApp.BuildAsync();
        // An exclusion and a "+" address are ordinary; the rest is what a hostile subscriber could have stored.
        await from.ExecuteAsync(
            """
            insert into subscribers (email, status, interests, format, created_at, updated_at) values
                ('+44@lab.example.org', 'active', '-medical diffusion', 'html', now(), now()),
                ('eq@lab.example.org', 'active', '=HYPERLINK("https://evil.example","x")', 'html', now(), now()),
                ('plus@lab.example.org', 'active', '+1+cmd|'' /C calc''!A0', 'html', now(), now()),
                ('at@lab.example.org', 'active', '@SUM(1+1)', 'html', now(), now()),
                ('tab@lab.example.org', 'active', E'\tdiffusion', 'html', now(), now()),
                ('cr@lab.example.org', 'active', E'\rdiffusion', 'html', now(), now())
            """);
        var exported = new StringWriter();

        await from.Services.GetRequiredService<SubscriberCsv>().ExportAsync(exported, null, Ct);
        await to.Services.GetRequiredService<SubscriberCsv>().ImportAsync(new StringReader(exported.ToString()), Ct);

        var cells = new List<string>();
        await using (var csv = await Sylvan.Data.Csv.CsvDataReader.CreateAsync(new StringReader(exported.ToString()), null, Ct))
        {
            while (await csv.ReadAsync(Ct))
            {
                cells.Add(csv.GetString(0));
                cells.Add(csv.GetString(1));
            }
        }
        Assert.Equal(
        [
            "'+44@lab.example.org", "'-medical diffusion", "eq@lab.example.org", "'=HYPERLINK(\"https://evil.example\",\"x\")",
            "plus@lab.example.org", "'+1+cmd|' /C calc'!A0", "at@lab.example.org", "'@SUM(1+1)",
            "tab@lab.example.org", "'\tdiffusion", "cr@lab.example.org", "'\rdiffusion",
        ], cells);
        Assert.Equal("-medical diffusion", await to.ScalarAsync<string>(
            "select interests from subscribers where email = '+44@lab.example.org'"));
    }

    [Fact]
    public async Task ExportThenImport_CellsStartingWithAQuote_ComeBackExactly()
    {
        await using var from = await TestApp.BuildAsync();
        await using var to = await TestApp.BuildAsync();
        // A quote is as good a first character of an address as any; the import takes one away before a formula's.
        await from.ExecuteAsync(
            """
            insert into subscribers (email, status, interests, format, created_at, updated_at) values
                ('''=x@lab.example.org', 'active', '''-quoted', 'html', now(), now()),
                ('''o''neil@lab.example.org', 'active', 'diffusion', 'html', now(), now())
            """);
        var exported = new StringWriter();

        await from.Services.GetRequiredService<SubscriberCsv>().ExportAsync(exported, null, Ct);
        var imported = await to.Services.GetRequiredService<SubscriberCsv>().ImportAsync(new StringReader(exported.ToString()), Ct);

        Assert.Equal((2, 0), (imported.Created, imported.ErrorCount));
        const string rows = "select email, interests from subscribers order by email";
        Assert.Equal(await from.RowsAsync(rows), await to.RowsAsync(rows));
    }

    [Fact]
    public async Task ExportOverHttp_UnknownStatus_400InsteadOfEveryone()
    {
        await using var app = await TestApp.StartAsync();
        await app.AddSubscriberAsync("on@lab.example.org", "diffusion");
        await app.AddSubscriberAsync("off@lab.example.org", "diffusion", SubscriberStatus.Unsubscribed);
        using var api = AdminTestKit.ApiClient(app);
        using var page = await AdminTestKit.SignedInClientAsync(app);

        using var apiTypo = await api.GetAsync("admin/api/subscribers/export?status=actve", Ct);
        using var pageTypo = await page.GetAsync("admin/subscribers/export.csv?status=actve", Ct);
        var active = await api.GetStringAsync("admin/api/subscribers/export?status=active", Ct);

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (apiTypo.StatusCode, pageTypo.StatusCode));
        Assert.Contains("actve", await apiTypo.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Contains("actve", await pageTypo.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Contains("on@lab.example.org", active, StringComparison.Ordinal);
        Assert.DoesNotContain("off@lab.example.org", active, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportOverHttp_NonAsciiAddress_Utf8WithByteOrderMarkForExcelAndImportedBack()
    {
        await using var app = await TestApp.StartAsync();
        await app.AddSubscriberAsync("josé@lab.example.org", "café");
        using var api = AdminTestKit.ApiClient(app);

        var exported = await api.GetByteArrayAsync("admin/api/subscribers/export", Ct);
        await app.ExecuteAsync("delete from subscribers");
        using var withMark = await api.PostAsync("admin/api/subscribers/import", new ByteArrayContent(exported), Ct);
        using var withoutMark = await api.PostAsync("admin/api/subscribers/import", new ByteArrayContent(exported[3..]), Ct);

        // Without the mark Excel reads the file as the machine's code page: josÃ©@lab.example.org.
        Assert.Equal([0xEF, 0xBB, 0xBF, .. "email,"u8], exported[..9]);
        Assert.Contains("josé@lab.example.org,café", Encoding.UTF8.GetString(exported), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (withMark.StatusCode, withoutMark.StatusCode));
        Assert.Equal(["josé@lab.example.org | café"], await app.RowsAsync("select email, interests from subscribers"));
    }

    [Fact]
    public async Task ExportThenImport_IntoEmptyDatabase_SameSubscribersAndSameFile()
    {
        await using var from = await TestApp.BuildAsync();
        await using var to = await TestApp.BuildAsync();
        var store = from.Services.GetRequiredService<SubscriberStore>();
        await store.UpsertAsync("ada@lab.example.org", "\"segment anything\" OR SAM", SubscriberStatus.Active, DigestFormat.Html, Ct);
        await store.UpsertAsync("Bob.Smith@Lab.Example.org", "diffusion \"low-rank\" -medical", SubscriberStatus.Paused, DigestFormat.Text, Ct);
        await store.UpsertAsync("cy@lab.example.org", "", SubscriberStatus.Unsubscribed, DigestFormat.Html, Ct);
        await store.UpsertAsync("dee@lab.example.org", "graphs, \"knowledge graphs\"", SubscriberStatus.Pending, DigestFormat.Html, Ct);
        var exported = new StringWriter();
        await from.Services.GetRequiredService<SubscriberCsv>().ExportAsync(exported, null, Ct);

        var imported = await to.Services.GetRequiredService<SubscriberCsv>().ImportAsync(new StringReader(exported.ToString()), Ct);
        var again = new StringWriter();
        await to.Services.GetRequiredService<SubscriberCsv>().ExportAsync(again, null, Ct);

        Assert.Equal((4, 0, 0), (imported.Created, imported.Updated, imported.ErrorCount));
        Assert.Equal(exported.ToString(), again.ToString());
        const string rows = "select email, interests, status, format from subscribers order by email";
        Assert.Equal(await from.RowsAsync(rows), await to.RowsAsync(rows));
    }
}
