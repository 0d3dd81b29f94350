using Npgsql;

namespace Newsletter.Inbox;

/// <summary>Deletes stored inbound mail of some verdicts, a thousand rows per statement so no lock is held for long.</summary>
internal static class InboundMailRetention
{
    private const int RowsPerStatement = 1000;

    /// <param name="statuses">The verdicts as SQL literals (<c>'quarantined'</c>), as a partial index on processed_at names them.</param>
    /// <returns>How many rows were deleted: those processed before <paramref name="before"/>.</returns>
    public static async Task<int> DeleteAsync(NpgsqlDataSource db, string statuses, DateTimeOffset before, CancellationToken ct)
    {
        var deleted = 0;
        int batch;
        do
        {
            await using var command = db.CreateCommand(
                $"""
                delete from inbound_messages where id in (
                    select id from inbound_messages where status in ({statuses}) and processed_at < @before limit @rows)
                """);
            command.Parameters.AddWithValue("before", before);
            command.Parameters.AddWithValue("rows", RowsPerStatement);
            batch = await command.ExecuteNonQueryAsync(ct);
            deleted += batch;
        }
        while (batch == RowsPerStatement);
        return deleted;
    }
}
