using Newsletter.Database;
using Npgsql;

namespace Newsletter.IntegrationTests.Database;

/// <summary>
/// Work done under an advisory lock whose session ends meanwhile (the server restarted, an administrator or a firewall
/// ended the idle lock connection): the lock went with the session, so the caller sees the work's own outcome.
/// </summary>
public sealed class AdvisoryLockTests
{
    [Fact]
    public async Task TryRun_TheLocksSessionEndsWhileTheWorkRuns_TheWorksResultStands()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var db = NpgsqlDataSource.Create(database.ConnectionString);

        var (ran, result) = await AdvisoryLocks.TryRunAsync(db, LockSpace.SavedKeywordLines, 0, async () =>
        {
            await EndTheLockSessionAsync(database);
            return 42;
        }, Ct);

        Assert.Equal((true, 42), (ran, result));
        // The lock is free for the next run.
        Assert.True((await AdvisoryLocks.TryRunAsync(db, LockSpace.SavedKeywordLines, 0, () => Task.FromResult(1), Ct)).Ran);
    }

    [Fact]
    public async Task TryRun_TheLocksSessionEndsAndTheWorkFails_TheWorksErrorIsWhatTheCallerSees()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var db = NpgsqlDataSource.Create(database.ConnectionString);

        var thrown = await Assert.ThrowsAnyAsync<Exception>(() => AdvisoryLocks.TryRunAsync<int>(db, LockSpace.SavedKeywordLines, 0, async () =>
        {
            await EndTheLockSessionAsync(database);
            throw new InvalidOperationException("the work's own failure");
        }, Ct));

        Assert.Equal("the work's own failure", thrown.Message);
    }

    /// <summary>Ends the session holding the database's advisory lock and waits until it has exited.</summary>
    private static async Task EndTheLockSessionAsync(TestDatabase database)
    {
        var ended = await Sql.ScalarAsync<long>(database.ConnectionString,
            """
            with holders as materialized (
                select pid from pg_locks
                where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database()))
            select count(*) from holders where pg_terminate_backend(pid, 10000)
            """);
        Assert.Equal(1L, ended);
    }
}
