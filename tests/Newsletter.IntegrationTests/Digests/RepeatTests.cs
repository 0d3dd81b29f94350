using Newsletter.Hosting;
using static Newsletter.IntegrationTests.Digests.ReaderChoicesTestKit;

namespace Newsletter.IntegrationTests.Digests;

/// <summary>No repeats: a paper a reader was sent is left out when it trends again, unless they turned that off.</summary>
public sealed class RepeatTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FanOut_PapersTrendingAgain_LeftOutForNoRepeatsReadersAndSentToThoseWhoTurnedItOff()
    {
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await TestApp.StartAsync(smtp: smtp, role: ProcessRole.All);
        const string Once = "once@lab.example";
        const string Again = "again@lab.example";
        await AddReaderAsync(app, Once, c => c);
        await AddReaderAsync(app, Again, c => c with { NoRepeats = false });

        // Day 1: papers 0-4. Day 2: papers 3-7, of which 3 and 4 trend again. Day 3: only repeats (0-2).
        var day1 = await IngestAsync(app, new DateOnly(2025, 3, 11), SamplePapers(0, 5));
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(day1, expectedRows: 2), "day 1's digests");
        var day2 = await IngestAsync(app, new DateOnly(2025, 3, 12), SamplePapers(3, 5));
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(day2, expectedRows: 2), "day 2's digests");
        var day3 = await IngestAsync(app, new DateOnly(2025, 3, 13), SamplePapers(0, 3));
        await Eventually.WaitAsync(() => app.Ledger.SettledAsync(day3, expectedRows: 2), "day 3's digests");

        var once = To(smtp, Once);
        var again = To(smtp, Again);
        Assert.Equal(2, once.Count);
        Assert.Equal(3, again.Count);
        Assert.Equal(Titles(SamplePapers(0, 5)).Order(StringComparer.Ordinal), DigestReader.Titles(once[0]).Order(StringComparer.Ordinal));
        Assert.Equal(Titles(SamplePapers(5, 3)).Order(StringComparer.Ordinal), DigestReader.Titles(once[1]).Order(StringComparer.Ordinal));
        Assert.Equal(Titles(SamplePapers(3, 5)).Order(StringComparer.Ordinal), DigestReader.Titles(again[1]).Order(StringComparer.Ordinal));
        Assert.Equal(Titles(SamplePapers(0, 3)).Order(StringComparer.Ordinal), DigestReader.Titles(again[2]).Order(StringComparer.Ordinal));
        var statuses = await app.Ledger.StatusByEmailAsync(day3, 1);
        Assert.Equal("skipped", statuses[Once]);
        Assert.Equal("no paper matched the interests that was not sent before",
            await app.ScalarAsync<string>($"select d.error from deliveries d join subscribers s on s.id = d.subscriber_id where d.issue_id = {day3} and s.email = '{Once}'"));
    }

    [Fact]
    public async Task FanOut_PapersOfADigestStillOnItsWay_LeftOutForNoRepeatsReaders()
    {
        // The SMTP server is down: day 1's digest waits in the ledger, deferred, when day 2 (a backlog, or the next day) is planned.
        await using var app = await TestApp.StartAsync(role: ProcessRole.All, settings: new Dictionary<string, string?>
        {
            ["Newsletter:Smtp:Host"] = "127.0.0.1",
            ["Newsletter:Smtp:Port"] = LoopbackPort.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Newsletter:Smtp:Security"] = "None",
            ["Newsletter:Delivery:FirstRetryDelay"] = "01:00:00",
        });
        const string Once = "once@lab.example";
        await AddReaderAsync(app, Once, c => c);
        var day1 = await IngestAsync(app, new DateOnly(2025, 3, 11), SamplePapers(0, 5));
        await Eventually.WaitAsync(async () => (await app.Ledger.StatusByEmailAsync(day1, 1)).GetValueOrDefault(Once) == "deferred", "day 1's digest to wait");

        var day2 = await IngestAsync(app, new DateOnly(2025, 3, 12), SamplePapers(3, 5));
        await Eventually.WaitAsync(async () => (await app.Ledger.StatusByEmailAsync(day2, 1)).ContainsKey(Once), "day 2's plan");

        var planned = await app.RowsAsync($"select p.title from deliveries d join papers p on p.id = any(d.paper_ids) where d.issue_id = {day2}");
        Assert.Equal(Titles(SamplePapers(5, 3)).Order(StringComparer.Ordinal), planned.Select(DigestReader.Normalized).Order(StringComparer.Ordinal));
    }
}
