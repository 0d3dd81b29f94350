using Microsoft.Extensions.Logging.Abstractions;
using Newsletter.Database;
using Newsletter.Inbox;
using Newsletter.Papers;
using Npgsql;

namespace Newsletter.IntegrationTests.Inbox;

/// <summary>
/// Two listings stored at the same time (the poller ingests several messages at once) against a real PostgreSQL:
/// papers they share keep one row, and links either brings are kept, whichever transaction commits first.
/// </summary>
public sealed class PaperStoreTests
{
    private static readonly DateTimeOffset Now = new(2025, 3, 12, 8, 0, 0, TimeSpan.Zero);

    private static async Task<TestDatabase> MigratedDatabaseAsync()
    {
        var database = await TestDatabase.CreateAsync(Ct);
        await Migrator.MigrateAsync(database.ConnectionString, NullLogger.Instance);
        return database;
    }

    [Fact]
    public async Task InsertIssue_NewPaperListedByTwoIssuesAtOnce_OneRowWithTheLinksOfBoth()
    {
        await using var database = await MigratedDatabaseAsync();
        var shared = Paper("2503.00001", "https://github.com/lab/first");
        var sharedWithCode = shared with { Links = ["https://github.com/lab/first", "https://github.com/lab/second"] };

        // The first listing inserts the new paper and holds its transaction open.
        await using var first = await database.OpenConnectionAsync(Ct);
        await using var firstTransaction = await first.BeginTransactionAsync(Ct);
        var firstIssue = await PaperStore.InsertIssueAsync(first, firstTransaction, await InboundAsync(first, firstTransaction, 1),
            Listing(new DateOnly(2025, 3, 11), shared, Paper("2503.00002")), Now, Ct);

        // The second lists the same paper with one more link: its insert waits on the first one's uncommitted row.
        await using var second = await database.OpenConnectionAsync(Ct);
        await using var secondTransaction = await second.BeginTransactionAsync(Ct);
        var secondInbound = await InboundAsync(second, secondTransaction, 2);
        var secondIssue = PaperStore.InsertIssueAsync(second, secondTransaction, secondInbound,
            Listing(new DateOnly(2025, 3, 12), sharedWithCode, Paper("2503.00003")), Now, Ct);
        await WaitUntilBlockedAsync(database, second.ProcessID);

        await firstTransaction.CommitAsync(Ct);
        var secondId = await secondIssue;
        await secondTransaction.CommitAsync(Ct);

        Assert.NotNull(firstIssue);
        Assert.NotNull(secondId);
        await using var check = await database.OpenConnectionAsync(Ct);
        Assert.Equal(3L, await Sql.ScalarAsync<long>(check, "select count(*) from papers"));
        var links = await Sql.ScalarAsync<string[]>(check, "select links from papers where arxiv_id = '2503.00001'");
        Assert.Equal(["https://github.com/lab/first", "https://github.com/lab/second"], links.Order());
        Assert.Equal(
            await Sql.ScalarAsync<long>(check, $"select paper_id from issue_papers where issue_id = {firstIssue} and position = 1"),
            await Sql.ScalarAsync<long>(check, $"select paper_id from issue_papers where issue_id = {secondId} and position = 1"));
        Assert.Equal(2, await Sql.ScalarAsync<int>(check, $"select paper_count from issues where id = {secondId}"));
    }

    /// <summary>
    /// A listing of known papers waits for no other listing. Without new links the papers are only read. With a new
    /// code link the paper is locked to add it, in a mode that must not wait for the key-share lock an uncommitted
    /// listing's issue_papers row holds on it: "for update" did, and four listings ingested at once (tests/bench.sh
    /// ingestion) took those locks in listing order and these in key order, so PostgreSQL aborted some as deadlocked.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task InsertIssue_KnownPaperListedByAnOpenIssue_NextIssueStoredWithoutWaitingForIt(bool bringsNewLink)
    {
        await using var database = await MigratedDatabaseAsync();
        await CommittedIssueAsync(database, 1, new DateOnly(2025, 3, 10), Paper("2503.00001", "https://github.com/lab/first"));

        // A second day lists the paper again and stays uncommitted (a slow ingest) ...
        await using var open = await database.OpenConnectionAsync(Ct);
        await using var openTransaction = await open.BeginTransactionAsync(Ct);
        await PaperStore.InsertIssueAsync(open, openTransaction, await InboundAsync(open, openTransaction, 2),
            Listing(new DateOnly(2025, 3, 11), Paper("2503.00001", "https://github.com/lab/first")), Now, Ct);

        // ... and a third day with the same paper is stored without waiting for it.
        string[] links = bringsNewLink ? ["https://github.com/lab/first", "https://github.com/lab/second"] : ["https://github.com/lab/first"];
        await using var other = await OpenWithLockTimeoutAsync(database);
        await using var otherTransaction = await other.BeginTransactionAsync(Ct);
        var third = await PaperStore.InsertIssueAsync(other, otherTransaction, await InboundAsync(other, otherTransaction, 3),
            Listing(new DateOnly(2025, 3, 12), Paper("2503.00001", links)), Now, Ct);
        await otherTransaction.CommitAsync(Ct);
        await openTransaction.CommitAsync(Ct);

        Assert.NotNull(third);
        await using var check = await database.OpenConnectionAsync(Ct);
        Assert.Equal(1L, await Sql.ScalarAsync<long>(check, "select count(*) from papers"));
        Assert.Equal(links, (await Sql.ScalarAsync<string[]>(check, "select links from papers")).Order());
        Assert.Equal(3L, await Sql.ScalarAsync<long>(check, "select count(distinct issue_id) from issue_papers"));
    }

    private static async Task CommittedIssueAsync(TestDatabase database, int n, DateOnly day, params ParsedPaper[] papers)
    {
        await using var connection = await database.OpenConnectionAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await PaperStore.InsertIssueAsync(connection, transaction, await InboundAsync(connection, transaction, n), Listing(day, papers), Now, Ct);
        await transaction.CommitAsync(Ct);
    }

    /// <summary>A connection whose statements give up after 5 s of waiting for a lock: waiting is the failure tested.</summary>
    private static async Task<NpgsqlConnection> OpenWithLockTimeoutAsync(TestDatabase database)
    {
        var connection = await database.OpenConnectionAsync(Ct);
        await using var set = new NpgsqlCommand("set lock_timeout = '5s'", connection);
        await set.ExecuteNonQueryAsync(Ct);
        return connection;
    }

    private static ParsedPaper Paper(string arxiv, params string[] links) =>
        new($"Paper {arxiv}", $"The abstract of paper {arxiv}.", arxiv, links);

    private static ParsedListing Listing(DateOnly day, params ParsedPaper[] papers) =>
        new($"listing-{day:yyyy-MM-dd}@test", "papers@huggingface.co", $"Trending papers {day}", day, papers);

    private static async Task<long> InboundAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, int n)
    {
        await using var command = new NpgsqlCommand(
            """
            insert into inbound_messages (message_id, sha256, source, size_bytes, raw, received_at)
            values (@id, sha256(@raw), 'cli', 1, @raw, @now) returning id
            """, connection, transaction);
        command.Parameters.AddWithValue("id", $"inbound-{n}@test");
        command.Parameters.AddWithValue("raw", new[] { (byte)n });
        command.Parameters.AddWithValue("now", Now);
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }

    /// <summary>Until PostgreSQL reports the backend waiting on a lock: the point where the race is set up.</summary>
    private static async Task WaitUntilBlockedAsync(TestDatabase database, int backendPid)
    {
        await using var watcher = await database.OpenConnectionAsync(Ct);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        while (await Sql.ScalarAsync<string?>(watcher, $"select wait_event_type from pg_stat_activity where pid = {backendPid}") != "Lock")
        {
            // pg_stat_activity is a snapshot per transaction: each query here runs in its own.
            await Task.Yield();
            deadline.Token.ThrowIfCancellationRequested();
        }
    }
}
