using Newsletter.Database;
using Npgsql;

namespace Newsletter.Subscribers;

public enum SubscriberStatus
{
    Pending,
    Active,
    Paused,
    Unsubscribed,
    Bounced,
}

public enum DigestFormat
{
    Html,
    Text,
}

/// <summary>How often a reader gets a digest: one per issue, or one a week gathering the week's issues.</summary>
public enum DigestFrequency
{
    Daily,
    Weekly,
}

/// <summary>
/// What a reader chose beyond their keywords: how many "Also for you" suggestions a digest may add, how often digests
/// come (weekly ones on <see cref="Weekday"/> in <see cref="TimeZone"/>, null being the server's), and whether papers
/// already sent to them are left out when they trend again.
/// </summary>
public sealed record ReaderChoices(int Suggestions)
{
    /// <summary>The suggestion counts a reader can pick from; 5 unless they chose otherwise.</summary>
    public static readonly IReadOnlyList<int> SuggestionCounts = [0, 3, 5, 10];

    public static ReaderChoices Default { get; } = new(5);

    public DigestFrequency Frequency { get; init; } = DigestFrequency.Daily;

    public DayOfWeek Weekday { get; init; } = DayOfWeek.Monday;

    /// <summary>An IANA time zone id (Europe/Berlin); null: the server's.</summary>
    public string? TimeZone { get; init; }

    public bool NoRepeats { get; init; } = true;

    /// <summary>The time zone id as the system knows it, or null for blank; throws for one the system does not know.</summary>
    /// <exception cref="ArgumentException">Not a time zone id of this system.</exception>
    public static string? CheckTimeZone(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return null;
        }
        id = id.Trim();
        if (id.Length > 64 || !TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone))
        {
            throw new ArgumentException($"'{id}' is not a known time zone (e.g. Europe/Berlin, America/New_York, UTC).", nameof(id));
        }
        return zone.HasIanaId ? zone.Id : TimeZoneInfo.TryConvertWindowsIdToIanaId(zone.Id, out var iana) ? iana : zone.Id;
    }

    /// <summary>The reader's time zone, or <paramref name="server"/> when they chose none (or one no longer known).</summary>
    public static TimeZoneInfo ZoneOrServer(string? id, TimeZoneInfo server) =>
        id is not null && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : server;

    /// <summary>"monday", as CSV and the CLI write a weekday.</summary>
    public static string ToDb(DayOfWeek weekday) => weekday.ToString().ToLowerInvariant();

    public static string ToDb(DigestFrequency frequency) => frequency.ToString().ToLowerInvariant();
}

public sealed record Subscriber(long Id, string Email, SubscriberStatus Status, string Interests, DigestFormat Format,
    DateTimeOffset CreatedAt, DateTimeOffset? ConfirmedAt);

/// <summary>Subscribers and the operations on them. Addresses are unique regardless of case.</summary>
public sealed class SubscriberStore(NpgsqlDataSource db, TimeProvider clock)
{
    /// <summary>
    /// Adds an address, or updates one already there. A value left null keeps what an existing subscriber has (a new one
    /// gets no interests, active, HTML), so an update that names one field changes that field only.
    /// </summary>
    /// <exception cref="ArgumentException">The address is not valid.</exception>
    /// <exception cref="InterestSyntaxException">The interests are not valid; the message says why and where.</exception>
    public Task<(Subscriber Subscriber, bool Created)> UpsertAsync(
        string email, string? interests, SubscriberStatus? status, DigestFormat? format, CancellationToken ct) =>
        UpsertAsync(email, interests, status, vouch: false, format, ct);

    /// <summary>
    /// An admin's "add": a new address, or a pending one, becomes active (the admin vouches for it); any other keeps its
    /// status, so a reader who unsubscribed, bounced or paused stays so (<see cref="KeptStatusNote"/> says which). A
    /// value left null keeps what an existing subscriber has.
    /// </summary>
    /// <exception cref="ArgumentException">The address is not valid.</exception>
    /// <exception cref="InterestSyntaxException">The interests are not valid.</exception>
    public Task<(Subscriber Subscriber, bool Created)> AddVouchedAsync(string email, string? interests, DigestFormat? format, CancellationToken ct) =>
        UpsertAsync(email, interests, status: null, vouch: true, format, ct);

    /// <summary>What the admin is told when <see cref="AddVouchedAsync"/> left an address's status as it was; null when active.</summary>
    public static string? KeptStatusNote(SubscriberStatus status) => status switch
    {
        SubscriberStatus.Unsubscribed =>
            "They unsubscribed, and stay unsubscribed: only they can subscribe again, or you on their admin page if they ask you to.",
        SubscriberStatus.Bounced => "Their mail bounced, and the address stays bounced: re-activate it on their admin page once it works again.",
        SubscriberStatus.Paused => "They paused their digests, and stay paused.",
        _ => null,
    };

    private async Task<(Subscriber Subscriber, bool Created)> UpsertAsync(
        string email, string? interests, SubscriberStatus? status, bool vouch, DigestFormat? format, CancellationToken ct)
    {
        var address = EmailAddress.Normalize(email);
        // Throws InterestSyntaxException with the position of the mistake.
        var query = interests is null ? null : InterestQuery.Parse(interests);
        var now = clock.GetUtcNow();
        await using var command = db.CreateCommand(
            """
            insert into subscribers (email, status, interests, format, created_at, confirmed_at, updated_at)
            values (@email, coalesce(@status, 'active'), coalesce(@interests, ''), coalesce(@format, 'html'), @now,
                    case when coalesce(@status, 'active') = 'active' then @now end, @now)
            on conflict (lower(email)) do update set
                status = coalesce(@status, case when @vouch and subscribers.status = 'pending' then 'active' else subscribers.status end),
                interests = coalesce(@interests, subscribers.interests), format = coalesce(@format, subscribers.format),
                updated_at = excluded.updated_at,
                confirmed_at = coalesce(subscribers.confirmed_at,
                    case when coalesce(@status, case when @vouch and subscribers.status = 'pending' then 'active' else subscribers.status end) = 'active'
                    then @now end)
            returning id, email, status, interests, format, created_at, confirmed_at, (xmax = 0) as created
            """);
        command.Parameters.AddWithValue("email", address);
        command.Parameters.Add(new NpgsqlParameter<string?>("status", status is { } s ? ToDb(s) : null));
        command.Parameters.Add(new NpgsqlParameter<string?>("interests", query?.ToString()));
        command.Parameters.Add(new NpgsqlParameter<string?>("format", format is { } f ? ToDb(f) : null));
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("vouch", vouch);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (Read(reader), reader.GetBoolean(7));
    }

    public async Task<long> CountAsync(CancellationToken ct)
    {
        await using var command = db.CreateCommand("select count(*) from subscribers");
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    public async Task<Subscriber?> FindByEmailAsync(string email, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "select id, email, status, interests, format, created_at, confirmed_at from subscribers where lower(email) = lower(@email)");
        command.Parameters.AddWithValue("email", EmailAddress.InOneSpelling(email.Trim()));
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    public async Task<Subscriber?> GetAsync(long subscriberId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "select id, email, status, interests, format, created_at, confirmed_at from subscribers where id = @id");
        command.Parameters.AddWithValue("id", subscriberId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>
    /// The subscribe form: a new address, or one that is pending, unsubscribed or bounced, becomes pending with these
    /// interests; an active or paused one is left as it is. Returns the subscriber's id either way.
    /// </summary>
    /// <exception cref="ArgumentException">The address is not valid.</exception>
    /// <exception cref="InterestSyntaxException">The interests are not valid.</exception>
    public async Task<long> RequestAsync(string email, string? interests, DigestFormat format, CancellationToken ct)
    {
        var address = EmailAddress.Normalize(email);
        var query = InterestQuery.Parse(interests);
        await using var command = db.CreateCommand(
            """
            with upserted as (
                insert into subscribers (email, status, interests, format, created_at, updated_at)
                values (@email, 'pending', @interests, @format, @now, @now)
                on conflict (lower(email)) do update set
                    status = 'pending', interests = excluded.interests, format = excluded.format,
                    status_reason = null, updated_at = excluded.updated_at
                where subscribers.status in ('pending', 'unsubscribed', 'bounced')
                returning id)
            select id from upserted
            union all
            select id from subscribers where lower(email) = lower(@email)
            limit 1
            """);
        command.Parameters.AddWithValue("email", address);
        command.Parameters.AddWithValue("interests", query.ToString());
        command.Parameters.AddWithValue("format", ToDb(format));
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The confirmation link: a pending (or since unsubscribed) address becomes active.</summary>
    public Task<bool> ConfirmAsync(long subscriberId, CancellationToken ct) =>
        TransitionAsync(subscriberId, [SubscriberStatus.Pending, SubscriberStatus.Unsubscribed, SubscriberStatus.Bounced], SubscriberStatus.Active, ct);

    /// <summary>Moves the subscriber to <paramref name="to"/> when its status is one of <paramref name="from"/>.</summary>
    public async Task<bool> TransitionAsync(long subscriberId, SubscriberStatus[] from, SubscriberStatus to, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(from);
        await using var command = db.CreateCommand(
            """
            update subscribers set status = @to, status_reason = null, updated_at = @now,
                confirmed_at = case when @to = 'active' then coalesce(confirmed_at, @now) else confirmed_at end
            where id = @id and status = any(@from)
            """);
        command.Parameters.AddWithValue("to", ToDb(to));
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("id", subscriberId);
        command.Parameters.AddWithValue("from", from.Select(ToDb).ToArray());
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <exception cref="InterestSyntaxException">The interests are not valid.</exception>
    public async Task UpdatePreferencesAsync(long subscriberId, string? interests, DigestFormat format, CancellationToken ct)
    {
        var query = InterestQuery.Parse(interests);
        await using var command = db.CreateCommand(
            "update subscribers set interests = @interests, format = @format, updated_at = @now where id = @id");
        command.Parameters.AddWithValue("interests", query.ToString());
        command.Parameters.AddWithValue("format", ToDb(format));
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("id", subscriberId);
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task<ReaderChoices> GetChoicesAsync(long subscriberId, CancellationToken ct)
    {
        await using var command = db.CreateCommand($"select {ChoicesColumns} from subscribers s where id = @id");
        command.Parameters.AddWithValue("id", subscriberId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadChoices(reader, 0) : ReaderChoices.Default;
    }

    /// <summary>The columns of a subscriber <c>s</c> that <see cref="ReadChoices"/> reads.</summary>
    public const string ChoicesColumns = "s.suggestions, s.frequency, s.weekday, s.time_zone, s.no_repeats";

    /// <summary>The reader's choices from <see cref="ChoicesColumns"/>, starting at column <paramref name="first"/>.</summary>
    public static ReaderChoices ReadChoices(NpgsqlDataReader reader, int first)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new ReaderChoices(reader.GetInt16(first))
        {
            Frequency = Enum.Parse<DigestFrequency>(reader.GetString(first + 1), ignoreCase: true),
            Weekday = (DayOfWeek)reader.GetInt16(first + 2),
            TimeZone = reader.IsDBNull(first + 3) ? null : reader.GetString(first + 3),
            NoRepeats = reader.GetBoolean(first + 4),
        };
    }

    /// <exception cref="ArgumentException">A choice is not one the reader can make.</exception>
    public async Task UpdateChoicesAsync(long subscriberId, ReaderChoices choices, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(choices);
        if (!ReaderChoices.SuggestionCounts.Contains(choices.Suggestions))
        {
            throw new ArgumentException($"Suggestions must be one of {string.Join(", ", ReaderChoices.SuggestionCounts)}.", nameof(choices));
        }
        if (!Enum.IsDefined(choices.Frequency) || !Enum.IsDefined(choices.Weekday))
        {
            throw new ArgumentException("Frequency must be daily or weekly and the weekday a day of the week.", nameof(choices));
        }
        await using var command = db.CreateCommand(
            """
            update subscribers set suggestions = @suggestions, frequency = @frequency, weekday = @weekday, time_zone = @zone,
                no_repeats = @no_repeats, updated_at = @now,
                weekly_since = case when frequency <> 'weekly' and @frequency = 'weekly' and weekly_until is null then @now else weekly_since end,
                weekly_until = case when frequency = 'weekly' and @frequency <> 'weekly' then @now
                                    when @frequency = 'weekly' then null else weekly_until end
            where id = @id
            """);
        command.Parameters.AddWithValue("suggestions", (short)choices.Suggestions);
        command.Parameters.AddWithValue("frequency", ReaderChoices.ToDb(choices.Frequency));
        command.Parameters.AddWithValue("weekday", (short)choices.Weekday);
        command.Parameters.Add(new NpgsqlParameter<string?>("zone", ReaderChoices.CheckTimeZone(choices.TimeZone)));
        command.Parameters.AddWithValue("no_repeats", choices.NoRepeats);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("id", subscriberId);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Subscribers whose address or interests contain <paramref name="text"/>, newest first.</summary>
    public async Task<IReadOnlyList<Subscriber>> SearchAsync(string? text, SubscriberStatus? status, int limit, int offset, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select id, email, status, interests, format, created_at, confirmed_at from subscribers
            where (@text = '' or strpos(lower(email), lower(@text)) > 0 or strpos(lower(interests), lower(@text)) > 0)
              and (@status::text is null or status = @status)
            order by id desc limit @limit offset @offset
            """);
        command.Parameters.AddWithValue("text", text?.Trim() ?? "");
        command.Parameters.Add(new NpgsqlParameter<string?>("status", status is { } s ? ToDb(s) : null));
        command.Parameters.AddWithValue("limit", limit);
        command.Parameters.AddWithValue("offset", offset);
        return await command.ReadAllAsync(Read, ct);
    }

    /// <summary>A hard bounce: an active subscriber stops receiving digests; part of the caller's batch, so it commits with the outcome.</summary>
    public static NpgsqlBatchCommand MarkBouncedCommand(long subscriberId, string reason, DateTimeOffset now)
    {
        var command = new NpgsqlBatchCommand(
            "update subscribers set status = 'bounced', status_reason = @reason, updated_at = @now where id = @id and status = 'active'");
        command.Parameters.AddWithValue("reason", reason);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("id", subscriberId);
        return command;
    }

    /// <summary>Changes what an admin may change: interests, status and format. Returns null when the subscriber is gone.</summary>
    /// <exception cref="InterestSyntaxException">The interests are not valid.</exception>
    public async Task<Subscriber?> UpdateAsync(long subscriberId, string? interests, SubscriberStatus status, DigestFormat format, CancellationToken ct)
    {
        var query = InterestQuery.Parse(interests);
        await using var command = db.CreateCommand(
            """
            update subscribers set interests = @interests, status = @status, format = @format, updated_at = @now,
                confirmed_at = case when @status = 'active' then coalesce(confirmed_at, @now) else confirmed_at end,
                status_reason = case when status = @status then status_reason else 'changed by an admin' end
            where id = @id
            returning id, email, status, interests, format, created_at, confirmed_at
            """);
        command.Parameters.AddWithValue("interests", query.ToString());
        command.Parameters.AddWithValue("status", ToDb(status));
        command.Parameters.AddWithValue("format", ToDb(format));
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("id", subscriberId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>
    /// SQL selecting the ids of the inbound mail kept about subscriber <c>@id</c>: delivery reports matched to their digests,
    /// mail from their address (an auto-reply, a reply quarantined) and reports and auto-replies that name their address
    /// anywhere in the mail as stored (a report about an address they forwarded a digest to): in any case, as a whole
    /// address (not the end of a longer one), not inside a base64 part. Listings are the newsletter's, never theirs.
    /// </summary>
    internal const string StoredMailAboutSql =
        """
        select m.id from inbound_messages m join subscribers s on s.id = @id
        where not exists (select from issues i where i.inbound_message_id = m.id)
          and (exists (select from bounces b where b.inbound_message_id = m.id and b.subscriber_id = s.id)
               or lower(m.from_address) = lower(s.email)
               or (m.status in ('report', 'auto_reply')
                   and (strpos(lower(m.reason), ' for ' || lower(s.email)) > 0
                        or encode(m.raw, 'escape') ~* ('(?<![a-z0-9!#$%&''*+/=?^_`{|}~.-])'
                             || regexp_replace(encode(convert_to(lower(s.email), 'UTF8'), 'escape'), '([!-/:-?[-`{-~])', '\\\1', 'g')
                             || '(?![a-z0-9_-]|\.[a-z0-9])'))))
        """;

    /// <summary>
    /// Erases a subscriber and all their personal data, in one transaction: the row; by cascade their deliveries, links,
    /// votes, feed, bounces and confirmation mails; and the inbound mail kept about them (<see cref="StoredMailAboutSql"/>),
    /// a report of another subscriber's bounce too (that bounce stays, without its report, and still counts). Generations
    /// they were the target of keep their history with the subscriber set to null.
    /// </summary>
    public Task<bool> DeleteAsync(long subscriberId, CancellationToken ct) => DeleteAsync(subscriberId, unconfirmedBefore: null, ct);

    /// <summary>
    /// Erases, as <see cref="DeleteAsync(long, CancellationToken)"/> does, a subscriber who asked to subscribe and never
    /// confirmed, when nothing about them changed since <paramref name="before"/>; false when they confirmed or asked again since.
    /// </summary>
    public Task<bool> DeleteUnconfirmedAsync(long subscriberId, DateTimeOffset before, CancellationToken ct) => DeleteAsync(subscriberId, before, ct);

    private async Task<bool> DeleteAsync(long subscriberId, DateTimeOffset? unconfirmedBefore, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        long[] mail;
        await using (var find = new NpgsqlCommand($"select array({StoredMailAboutSql})", connection, transaction))
        {
            find.Parameters.AddWithValue("id", subscriberId);
            mail = (long[])(await find.ExecuteScalarAsync(ct))!;
        }
        // The condition is checked by the delete itself, so a confirmation that commits first keeps the subscriber.
        var condition = unconfirmedBefore is null ? "" : " and status = 'pending' and confirmed_at is null and updated_at < @before";
        await using (var delete = new NpgsqlCommand("delete from subscribers where id = @id" + condition, connection, transaction))
        {
            delete.Parameters.AddWithValue("id", subscriberId);
            if (unconfirmedBefore is { } before)
            {
                delete.Parameters.AddWithValue("before", before);
            }
            if (await delete.ExecuteNonQueryAsync(ct) == 0)
            {
                return false;
            }
        }
        await using (var forget = new NpgsqlCommand(
            "delete from inbound_messages where id = any(@mail)", connection, transaction))
        {
            forget.Parameters.AddWithValue("mail", mail);
            await forget.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return true;
    }

    public async Task<IReadOnlyDictionary<SubscriberStatus, long>> CountByStatusAsync(CancellationToken ct)
    {
        await using var command = db.CreateCommand("select status, count(*) from subscribers group by status");
        var result = Enum.GetValues<SubscriberStatus>().ToDictionary(s => s, _ => 0L);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result[Enum.Parse<SubscriberStatus>(reader.GetString(0), ignoreCase: true)] = reader.GetInt64(1);
        }
        return result;
    }

    internal static Subscriber Read(NpgsqlDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetString(1),
        Enum.Parse<SubscriberStatus>(reader.GetString(2), ignoreCase: true),
        reader.GetString(3),
        Enum.Parse<DigestFormat>(reader.GetString(4), ignoreCase: true),
        reader.GetFieldValue<DateTimeOffset>(5),
        reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6));

    internal static string ToDb(SubscriberStatus status) => status.ToString().ToLowerInvariant();

    internal static string ToDb(DigestFormat format) => format.ToString().ToLowerInvariant();
}
