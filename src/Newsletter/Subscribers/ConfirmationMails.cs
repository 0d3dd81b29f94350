using Newsletter.Database;
using Npgsql;

namespace Newsletter.Subscribers;

/// <summary>Where a confirmation mail is: waiting for its job, or finished one of three ways.</summary>
public enum ConfirmationMailStatus
{
    Pending,
    Sent,
    /// <summary>Refused for good by the SMTP server.</summary>
    Failed,
    /// <summary>Nothing to send any more (the address left the list meanwhile).</summary>
    Skipped,
}

/// <summary>A confirmation mail to send: the row of the ledger and the subscriber as they are now.</summary>
public sealed record ConfirmationMailWork(long Id, ConfirmationMailStatus MailStatus, long SubscriberId, string Email, SubscriberStatus SubscriberStatus);

/// <summary>A confirmation mail as the admin sees it: when it was asked for, where it is, and what the server said.</summary>
public sealed record ConfirmationMailRow(DateTimeOffset CreatedAt, ConfirmationMailStatus Status, string? Reply, DateTimeOffset? FinishedAt);

/// <summary>
/// The ledger of confirmation mails, which is also the per-address limit: a row is only added while fewer than the
/// limit were asked for in the last hour, under a lock on the subscriber row, so it holds across processes.
/// </summary>
public sealed class ConfirmationMails(NpgsqlDataSource db, TimeProvider clock)
{
    /// <summary>Records a request for a mail to the subscriber; null when the address had its share this hour or needs none.</summary>
    public async Task<long?> TryRequestAsync(long subscriberId, int perHour, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var lockRow = new NpgsqlCommand("select status from subscribers where id = @id for update", connection, transaction))
        {
            lockRow.Parameters.AddWithValue("id", subscriberId);
            if (!DbNames.TryParse<SubscriberStatus>(await lockRow.ExecuteScalarAsync(ct) as string, out var status)
                || status is not (SubscriberStatus.Pending or SubscriberStatus.Active or SubscriberStatus.Paused))
            {
                return null;
            }
        }

        // A new statement after the lock: it sees every row a previous holder of the lock committed.
        await using var insert = new NpgsqlCommand(
            """
            insert into confirmation_mails (subscriber_id, created_at)
            select @id, @now
            where (select count(*) from confirmation_mails where subscriber_id = @id and created_at > @since) < @limit
            returning id
            """, connection, transaction);
        insert.Parameters.AddWithValue("id", subscriberId);
        insert.Parameters.AddWithValue("now", now);
        insert.Parameters.AddWithValue("since", now - TimeSpan.FromHours(1));
        insert.Parameters.AddWithValue("limit", (long)perHour);
        var id = await insert.ExecuteScalarAsync(ct) as long?;
        await transaction.CommitAsync(ct);
        return id;
    }

    /// <summary>When the latest mail to the subscriber was asked for, and where it is; null when none was.</summary>
    public async Task<(DateTimeOffset At, ConfirmationMailStatus Status)?> LatestAsync(long subscriberId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "select created_at, status from confirmation_mails where subscriber_id = @id order by created_at desc, id desc limit 1");
        command.Parameters.AddWithValue("id", subscriberId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? (reader.GetFieldValue<DateTimeOffset>(0), DbNames.Parse<ConfirmationMailStatus>(reader.GetString(1)))
            : null;
    }

    /// <summary>When the address may have another mail under <see cref="TryRequestAsync"/>'s limit; null when it may now.</summary>
    public async Task<DateTimeOffset?> LimitEndsAtAsync(long subscriberId, int perHour, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        // The oldest of the last perHour mails: once it is an hour old, fewer than perHour are.
        await using var command = db.CreateCommand(
            """
            select created_at from confirmation_mails
            where subscriber_id = @id and created_at > @since
            order by created_at desc offset @limit - 1 limit 1
            """);
        command.Parameters.AddWithValue("id", subscriberId);
        command.Parameters.AddWithValue("since", now - TimeSpan.FromHours(1));
        command.Parameters.AddWithValue("limit", (long)perHour);
        return await command.ExecuteScalarAsync(ct) is DateTime at ? new DateTimeOffset(at, TimeSpan.Zero) + TimeSpan.FromHours(1) : null;
    }

    /// <summary>The subscriber's latest <paramref name="limit"/> mails, newest first.</summary>
    public async Task<IReadOnlyList<ConfirmationMailRow>> ListAsync(long subscriberId, int limit, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select created_at, status, reply, finished_at from confirmation_mails
            where subscriber_id = @id order by created_at desc, id desc limit @limit
            """);
        command.Parameters.AddWithValue("id", subscriberId);
        command.Parameters.AddWithValue("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<ConfirmationMailRow>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new ConfirmationMailRow(reader.GetFieldValue<DateTimeOffset>(0), DbNames.Parse<ConfirmationMailStatus>(reader.GetString(1)),
                reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3)));
        }
        return rows;
    }

    public async Task<ConfirmationMailWork?> GetAsync(long mailId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select m.id, m.status, s.id, s.email, s.status
            from confirmation_mails m join subscribers s on s.id = m.subscriber_id
            where m.id = @id
            """);
        command.Parameters.AddWithValue("id", mailId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new ConfirmationMailWork(reader.GetInt64(0), DbNames.Parse<ConfirmationMailStatus>(reader.GetString(1)), reader.GetInt64(2),
                reader.GetString(3), DbNames.Parse<SubscriberStatus>(reader.GetString(4)))
            : null;
    }

    /// <summary>
    /// Mints the link the mail carries. A retry replaces the token of the previous attempt, so at most one link of
    /// each mail works.
    /// </summary>
    public async Task<string> MintTokenAsync(long mailId, long subscriberId, TokenPurpose purpose, DateTimeOffset? expiresAt, CancellationToken ct)
    {
        var token = SubscriberTokens.NewToken();
        var hash = SubscriberTokens.HashToken(token);
        await using var batch = db.CreateBatch();
        var delete = new NpgsqlBatchCommand(
            "delete from subscriber_tokens where token_hash = (select token_hash from confirmation_mails where id = @mail)");
        delete.Parameters.AddWithValue("mail", mailId);
        var insert = new NpgsqlBatchCommand(
            """
            insert into subscriber_tokens (token_hash, subscriber_id, purpose, created_at, expires_at)
            values (@hash, @subscriber, @purpose, @now, @expires)
            """);
        insert.Parameters.AddWithValue("hash", hash);
        insert.Parameters.AddWithValue("subscriber", subscriberId);
        insert.Parameters.AddWithValue("purpose", SubscriberTokens.ToDb(purpose));
        insert.Parameters.AddWithValue("now", clock.GetUtcNow());
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset?>("expires", expiresAt));
        var link = new NpgsqlBatchCommand("update confirmation_mails set token_hash = @hash where id = @mail");
        link.Parameters.AddWithValue("hash", hash);
        link.Parameters.AddWithValue("mail", mailId);
        batch.BatchCommands.Add(delete);
        batch.BatchCommands.Add(insert);
        batch.BatchCommands.Add(link);
        await batch.ExecuteNonQueryAsync(ct); // One implicit transaction.
        return token;
    }

    /// <summary>Notes an attempt to send the mail; returns when the first attempt was (this one, for the first).</summary>
    public async Task<DateTimeOffset> StartAttemptAsync(long mailId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "update confirmation_mails set first_attempt_at = coalesce(first_attempt_at, @now) where id = @id returning first_attempt_at");
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("id", mailId);
        return await command.ExecuteScalarAsync(ct) is DateTime at
            ? new DateTimeOffset(at, TimeSpan.Zero)
            : throw new InvalidOperationException($"Confirmation mail {mailId} does not exist.");
    }

    /// <summary>Records the end of a mail: sent, failed or skipped.</summary>
    public async Task FinishAsync(long mailId, ConfirmationMailStatus status, string? reply, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "update confirmation_mails set status = @status, reply = @reply, finished_at = @now where id = @id");
        command.Parameters.AddWithValue("status", DbNames.ToDb(status));
        command.Parameters.AddWithValue("reply", (object?)StoredText.Bounded(reply, 1000) ?? DBNull.Value);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("id", mailId);
        await command.ExecuteNonQueryAsync(ct);
    }
}
