using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>
/// The admin's long lists (subscribers, an issue's deliveries, the quarantine) show a page at a time with links to the
/// next and previous pages that keep the search: no row is out of reach, and the admin sees when more follow.
/// </summary>
public sealed partial class AdminListPagingTests
{
    private static readonly DateTimeOffset At = new(2025, 3, 11, 15, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task SubscribersSearch_201Matches_200ShownWithANextLinkKeepingTheSearchAndTheLastOneThere()
    {
        await using var app = await TestApp.StartAsync();
        await app.ExecuteAsync(
            """
            insert into subscribers (email, status, interests, created_at, updated_at)
            select 'paged' || n || '@lab.example.org', 'active', 'agents', @at, @at from generate_series(1, 201) n;
            insert into subscribers (email, status, interests, created_at, updated_at) values ('elsewhere@lab.example.org', 'active', '', @at, @at);
            """, ("at", At));
        using var admin = await AdminTestKit.SignedInClientAsync(app);

        var first = await admin.GetStringAsync("admin/subscribers?q=paged&status=active", Ct);
        var next = Link(first, "next");
        var second = await admin.GetStringAsync(next, Ct);
        var back = await admin.GetStringAsync(Link(second, "prev"), Ct);

        var firstRows = SubscriberLinks(first);
        var secondRows = SubscriberLinks(second);
        Assert.Equal(200, firstRows.Count);
        Assert.Contains("q=paged", next, StringComparison.Ordinal);
        Assert.Contains("status=active", next, StringComparison.Ordinal);
        Assert.Single(secondRows);
        Assert.Equal(201, firstRows.Union(secondRows).Count());
        Assert.Null(LinkOrNull(first, "prev"));
        Assert.Null(LinkOrNull(second, "next"));
        Assert.Equal(firstRows, SubscriberLinks(back));
    }

    [Fact]
    public async Task IssuePage_501Deliveries_500ShownWithANextLinkKeepingTheFilterAndTheLastOneThere()
    {
        await using var app = await TestApp.StartAsync();
        await FannedOutGeneration.CreateAsync(app, subscribers: 501);
        using var admin = await AdminTestKit.SignedInClientAsync(app);

        var first = await admin.GetStringAsync("admin/issues/1?status=pending", Ct);
        var next = Link(first, "next");
        var second = await admin.GetStringAsync(next, Ct);

        Assert.Equal(500, SubscriberLinks(first).Count);
        Assert.Contains("status=pending", next, StringComparison.Ordinal);
        Assert.Single(SubscriberLinks(second));
        Assert.Equal(501, SubscriberLinks(first).Union(SubscriberLinks(second)).Count());
        Assert.Null(LinkOrNull(second, "next"));
        Assert.NotNull(LinkOrNull(second, "prev"));
    }

    [Fact]
    public async Task QuarantinePage_501Messages_500ShownWithANextLinkAndTheLastOneThere()
    {
        await using var app = await TestApp.StartAsync();
        await app.ExecuteAsync(
            """
            insert into inbound_messages (message_id, sha256, source, from_address, subject, size_bytes, raw, status, reason, received_at, processed_at)
            select 'quarantined-' || n || '@test', sha256(convert_to(n::text, 'UTF8')), 'cli', 'someone@example.net', 'Message ' || n, 1, '\x01',
                   'quarantined', 'sender not allowed', @at + n * interval '1 minute', @at + n * interval '1 minute'
            from generate_series(1, 501) n;
            """, ("at", At));
        using var admin = await AdminTestKit.SignedInClientAsync(app);

        var first = await admin.GetStringAsync("admin/quarantine", Ct);
        using var secondResponse = await admin.GetAsync(Link(first, "next"), Ct);
        var second = await secondResponse.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, secondResponse.StatusCode);
        Assert.Equal(500, QuarantineLinks(first).Count);
        Assert.Single(QuarantineLinks(second));
        Assert.Equal(501, QuarantineLinks(first).Union(QuarantineLinks(second)).Count());
        Assert.Null(LinkOrNull(second, "next"));
    }

    [Fact]
    public async Task Overview_21Issues_20ShownWithANextLinkToTheOldest()
    {
        // Only the latest 20 were listed before, and an older issue (to re-send it) was reachable by guessing its address.
        await using var app = await TestApp.StartAsync();
        await app.ExecuteAsync(
            """
            insert into inbound_messages (message_id, sha256, source, size_bytes, raw, received_at, status)
            select 'listing-' || n || '@test', sha256(convert_to(n::text, 'UTF8')), 'cli', 1, '\x01', @at + n * interval '1 day', 'ingested'
            from generate_series(1, 21) n;
            insert into issues (issue_date, subject, inbound_message_id, paper_count, created_at)
            select (@at + n * interval '1 day')::date, 'Trending papers', m.id, 0, @at + n * interval '1 day'
            from generate_series(1, 21) n join inbound_messages m on m.message_id = 'listing-' || n || '@test';
            """, ("at", At));
        using var admin = await AdminTestKit.SignedInClientAsync(app);

        var first = await admin.GetStringAsync("admin", Ct);
        var second = await admin.GetStringAsync(Link(first, "next"), Ct);

        Assert.Equal(20, IssueLinks(first).Count);
        Assert.Single(IssueLinks(second));
        Assert.Equal(21, IssueLinks(first).Union(IssueLinks(second)).Count());
        Assert.Contains(">2025-03-12<", second, StringComparison.Ordinal);
        Assert.Null(LinkOrNull(second, "next"));
    }

    [Fact]
    public async Task Api_IssuesAndQuarantinePagedByLimitAndOffset_EachOnceTheOldestToo()
    {
        // Both lists ignored offset, which the subscribers and deliveries take: a script paging them got the first page again and again.
        await using var app = await TestApp.StartAsync();
        await app.ExecuteAsync(
            """
            insert into inbound_messages (message_id, sha256, source, size_bytes, raw, received_at, status, reason)
            select kind || '-' || n || '@test', sha256(convert_to(kind || n, 'UTF8')), 'cli', 1, '\x01', @at + n * interval '1 day',
                   case kind when 'listing' then 'ingested' else 'quarantined' end, case kind when 'spam' then 'sender not allowed' end
            from generate_series(1, 3) n cross join (values ('listing'), ('spam')) k(kind);
            insert into issues (issue_date, subject, inbound_message_id, paper_count, created_at)
            select (@at + n * interval '1 day')::date, 'Trending papers', m.id, 0, @at + n * interval '1 day'
            from generate_series(1, 3) n join inbound_messages m on m.message_id = 'listing-' || n || '@test';
            """, ("at", At));
        using var api = AdminTestKit.ApiClient(app);

        async Task<List<long>> PagedIdsAsync(string list)
        {
            var ids = new List<long>();
            foreach (var offset in new[] { 0, 2 })
            {
                var page = await api.GetFromJsonAsync<JsonElement>($"admin/api/{list}?limit=2&offset={offset}", Ct);
                ids.AddRange(page.EnumerateArray().Select(row => row.GetProperty("id").GetInt64()));
            }
            return ids;
        }

        Assert.Equal(await app.ScalarAsync<long[]>("select array_agg(id order by created_at desc) from issues"), await PagedIdsAsync("issues"));
        Assert.Equal(await app.ScalarAsync<long[]>("select array_agg(id order by received_at desc) from inbound_messages where status = 'quarantined'"),
            await PagedIdsAsync("quarantine"));
    }

    [Fact]
    public async Task IssuePage_501Bounces_CountsAllOfThemAndSaysOnlyTheLatestAreListed()
    {
        // The counts were taken from the listed 500, so the 501st bounce was in no number on the page.
        await using var app = await TestApp.StartAsync();
        await FannedOutGeneration.CreateAsync(app, subscribers: 501);
        await InsertBouncesAsync(app,
            """
            select d.id, d.subscriber_id, d.issue_id, case when d.id % 3 = 0 then 'transient' else 'permanent' end, '5.1.1',
                   'return_path', @at + d.id * interval '1 second'
            from deliveries d
            """);
        var permanent = await app.ScalarAsync<long>("select count(*) from bounces where kind = 'permanent'");
        using var admin = await AdminTestKit.SignedInClientAsync(app);

        var page = WebUtility.HtmlDecode(await admin.GetStringAsync("admin/issues/1", Ct));

        Assert.Contains($"{permanent} permanent, {501 - permanent} temporary", page, StringComparison.Ordinal);
        Assert.Contains("the latest 500 are listed", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubscriberPage_101Bounces_100ShownWithANextLinkToTheOldest()
    {
        // The page listed the latest 100 bounces and said nothing of the others.
        await using var app = await TestApp.StartAsync();
        await FannedOutGeneration.CreateAsync(app, subscribers: 1);
        await InsertBouncesAsync(app,
            """
            select d.id, d.subscriber_id, d.issue_id, 'transient', '4.2.' || n, 'return_path', @at + n * interval '1 minute'
            from deliveries d cross join generate_series(1, 101) n
            """);
        var subscriber = await app.ScalarAsync<long>("select subscriber_id from deliveries");
        using var admin = await AdminTestKit.SignedInClientAsync(app);

        var first = await admin.GetStringAsync($"admin/subscribers/{subscriber}", Ct);
        var second = await admin.GetStringAsync(Link(first, "next"), Ct);

        Assert.Equal(100, BounceStatuses(first).Count);
        Assert.Equal("4.2.101", BounceStatuses(first)[0]);
        Assert.Equal(["4.2.1"], BounceStatuses(second));
        Assert.Null(LinkOrNull(second, "next"));
        Assert.NotNull(LinkOrNull(second, "prev"));
    }

    /// <summary>Bounces from one stored report: <paramref name="rows"/> selects delivery, subscriber, issue, kind, status,
    /// matched_by and received_at (<c>@at</c> is <see cref="At"/>).</summary>
    private static Task<int> InsertBouncesAsync(TestApp app, string rows) =>
        app.ExecuteAsync(
            $"""
            insert into inbound_messages (message_id, sha256, source, size_bytes, raw, received_at, status)
            values ('report@test', '\x02', 'cli', 1, '\x01', @at, 'report');
            insert into bounces (inbound_message_id, delivery_id, subscriber_id, issue_id, kind, status, matched_by, received_at)
            select (select id from inbound_messages where message_id = 'report@test'), b.*
            from ({rows}) b;
            """, ("at", At));

    private static List<string> BounceStatuses(string page) => [.. BounceStatus().Matches(page).Select(m => m.Groups[1].Value)];

    [GeneratedRegex(@"<td>(4\.2\.\d+)</td>")]
    private static partial Regex BounceStatus();

    private static string Link(string page, string rel) => LinkOrNull(page, rel) ?? throw new InvalidOperationException($"no rel=\"{rel}\" link on the page");

    /// <summary>The href of the page's link with this rel ("next", "prev"), decoded and relative to the site.</summary>
    private static string? LinkOrNull(string page, string rel) =>
        RelLink().Matches(page).FirstOrDefault(m => m.Groups["rel"].Value == rel) is { } link ? WebUtility.HtmlDecode(link.Groups["href"].Value).TrimStart('/') : null;

    private static List<string> SubscriberLinks(string page) => [.. SubscriberLink().Matches(page).Select(m => m.Value)];

    private static List<string> IssueLinks(string page) => [.. IssueLink().Matches(page).Select(m => m.Value)];

    private static List<string> QuarantineLinks(string page) => [.. QuarantineLink().Matches(page).Select(m => m.Value)];

    [GeneratedRegex("""<a rel="(?<rel>[a-z]+)" href="(?<href>[^"]+)">""")]
    private static partial Regex RelLink();

    [GeneratedRegex("""href="/admin/subscribers/\d+">""")]
    private static partial Regex SubscriberLink();

    [GeneratedRegex("""href="/admin/issues/\d+">""")]
    private static partial Regex IssueLink();

    [GeneratedRegex("""href="/admin/quarantine/\d+">""")]
    private static partial Regex QuarantineLink();

    [Theory]
    [InlineData("admin?offset=ten")]
    [InlineData("admin/quarantine?offset=ten")]
    [InlineData("admin/subscribers?offset=ten")]
    [InlineData("admin/subscribers/{id}?offset=ten")]
    public async Task ListPages_OffsetThatIsNoNumber_400NamingItInsteadOfTheFirstRows(string path)
    {
        // The offset was dropped and the list shown from its first row, as if the link had been followed.
        await using var app = await TestApp.StartAsync();
        var reader = await app.AddSubscriberAsync("listed@lab.example.org");
        using var admin = await AdminTestKit.SignedInClientAsync(app);

        using var response = await admin.GetAsync(path.Replace("{id}", reader.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), Ct);
        var page = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("offset: &#x27;ten&#x27; is not a row number.", page, StringComparison.Ordinal);
    }
}
