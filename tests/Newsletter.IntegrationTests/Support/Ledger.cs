namespace Newsletter.IntegrationTests.Support;

/// <summary>Reads the delivery ledger the way an operator would, for assertions.</summary>
internal sealed class Ledger(string connectionString)
{
    public async Task<Dictionary<string, string>> StatusByEmailAsync(long issueId, int generation)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (email, status) in await Sql.ReadAsync(connectionString,
            "select s.email, d.status from deliveries d join subscribers s on s.id = d.subscriber_id where d.issue_id = @issue and d.generation = @generation",
            reader => (reader.GetString(0), reader.GetString(1)), ("issue", issueId), ("generation", generation)))
        {
            result[email] = status;
        }
        return result;
    }

    /// <summary>One value of a query on the ledger's database (null when it has no row).</summary>
    public Task<object?> ScalarAsync(string sql, CancellationToken ct) => Sql.ScalarAsync<object?>(connectionString, sql);

    /// <summary>True once every row of the issue is final: nothing pending, sending or deferred.</summary>
    public async Task<bool> SettledAsync(long issueId, int expectedRows)
    {
        var (rows, open) = (await Sql.ReadAsync(connectionString,
            "select count(*), count(*) filter (where status in ('pending', 'sending', 'deferred')) from deliveries where issue_id = @issue",
            reader => (reader.GetInt64(0), reader.GetInt64(1)), ("issue", issueId))).Single();
        return rows == expectedRows && open == 0;
    }
}
