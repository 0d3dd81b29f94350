using System.Buffers.Text;
using System.Security.Cryptography;
using Npgsql;

namespace Newsletter.Subscribers;

public enum TokenPurpose
{
    Confirm,
    Manage,
    Unsubscribe,
    View,

    /// <summary>Never a link: the signed delivery id in a digest's VERP return path (Bounces/ReturnPaths.cs).</summary>
    Bounce,
}

public enum TokenState
{
    Valid,
    Unknown,
    Expired,

    /// <summary>A link that works once (confirmation) and already did.</summary>
    Used,
}

/// <summary>What a link's token resolved to; <see cref="Subscriber"/> is set when the token is known.</summary>
public sealed record TokenMatch(TokenState State, Subscriber? Subscriber = null, long? DeliveryId = null);

/// <summary>
/// Personal link tokens of two kinds. Stored ones (confirmation mails, links made outside a digest, and digest links
/// minted before digest links were signed): 128 random bits, base64url, 22 characters, only the SHA-256 stored, found
/// by that hash alone. Signed ones (every digest since, <see cref="DigestLinkKeys"/>): 34 characters, checked by their
/// MAC, then found by their delivery. Either way a wrong purpose is as unknown as a forged token.
/// </summary>
public sealed class SubscriberTokens(NpgsqlDataSource db, DigestLinkKeyStore digestLinks, TimeProvider clock)
{
    /// <summary>Tokens are 22 or 34 characters; anything much longer is not worth hashing.</summary>
    public const int MaxTokenLength = 64;

    public async Task<string> MintAsync(long subscriberId, TokenPurpose purpose, DateTimeOffset? expiresAt, CancellationToken ct)
    {
        var token = NewToken();
        await using var command = db.CreateCommand(
            """
            insert into subscriber_tokens (token_hash, subscriber_id, purpose, created_at, expires_at)
            values (@hash, @subscriber, @purpose, @now, @expires)
            """);
        command.Parameters.AddWithValue("hash", HashToken(token));
        command.Parameters.AddWithValue("subscriber", subscriberId);
        command.Parameters.AddWithValue("purpose", ToDb(purpose));
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset?>("expires", expiresAt));
        await command.ExecuteNonQueryAsync(ct);
        return token;
    }

    public async Task<TokenMatch> FindAsync(string? token, TokenPurpose purpose, CancellationToken ct)
    {
        if (await SourceAsync(token, purpose, ct) is not { } source)
        {
            return new TokenMatch(TokenState.Unknown);
        }

        await using var command = db.CreateCommand(source.Select(""));
        source.AddParameters(command.Parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : new TokenMatch(TokenState.Unknown);
    }

    /// <summary>
    /// Where a token's subscriber is, as SQL a page can send in one round trip with what else it shows; null when the
    /// token cannot name anybody (malformed, forged, or signed for another purpose).
    /// </summary>
    public async ValueTask<TokenSource?> SourceAsync(string? token, TokenPurpose purpose, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength || !token.All(char.IsAscii))
        {
            return null;
        }

        if (token.Length == DigestLinkKeys.TokenLength)
        {
            var keys = await digestLinks.GetKeysAsync(ct);
            return keys.TryVerify(token, purpose, out var signedDelivery) ? TokenSource.Signed(signedDelivery) : null;
        }
        return TokenSource.Stored(HashToken(token), ToDb(purpose));
    }

    /// <summary>The token's match from a row of <see cref="TokenSource.Select"/>; its extra columns start at <see cref="TokenSource.ExtraColumn"/>.</summary>
    public TokenMatch Read(NpgsqlDataReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var subscriber = SubscriberStore.Read(reader);
        var deliveryId = reader.IsDBNull(7) ? (long?)null : reader.GetInt64(7);
        var expired = !reader.IsDBNull(8) && reader.GetFieldValue<DateTimeOffset>(8) <= clock.GetUtcNow();
        var used = !reader.IsDBNull(9);
        return new TokenMatch(used ? TokenState.Used : expired ? TokenState.Expired : TokenState.Valid, subscriber, deliveryId);
    }

    /// <summary>
    /// Spends a stored token that works once: true for the one caller that spent it, false when it was already used
    /// (two clicks at once included).
    /// </summary>
    public async Task<bool> UseOnceAsync(string token, TokenPurpose purpose, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "update subscriber_tokens set used_at = @now where token_hash = @hash and purpose = @purpose and used_at is null");
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("hash", HashToken(token));
        command.Parameters.AddWithValue("purpose", ToDb(purpose));
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Marks used every token of <paramref name="purpose"/> the subscriber has not used: once one confirmation link
    /// has worked, an earlier mail's cannot bring the address back after an unsubscribe.</summary>
    public async Task RetireAsync(long subscriberId, TokenPurpose purpose, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "update subscriber_tokens set used_at = @now where subscriber_id = @subscriber and purpose = @purpose and used_at is null");
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("subscriber", subscriberId);
        command.Parameters.AddWithValue("purpose", ToDb(purpose));
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Deletes the stored tokens that expired or were used before <paramref name="before"/>; returns how many.</summary>
    public async Task<int> DeleteSpentAsync(DateTimeOffset before, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "delete from subscriber_tokens where used_at < @before or (used_at is null and expires_at < @before)");
        command.Parameters.AddWithValue("before", before);
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A stored token: 128 random bits, base64url.</summary>
    internal static string NewToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    /// <summary>What is stored of a token, and what it is looked up by.</summary>
    public static byte[] HashToken(string token) => SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(token));

    internal static string ToDb(TokenPurpose purpose) => purpose.ToString().ToLowerInvariant();
}

/// <summary>
/// The rows a token names: its subscriber <c>s</c> with the token's delivery, expiry and use. A signed token is found by
/// its delivery, a stored one by its hash and purpose.
/// </summary>
public sealed class TokenSource
{
    /// <summary>The first column after the token's own in a <see cref="Select"/> row.</summary>
    public const int ExtraColumn = 10;

    private readonly string _columns;
    private readonly string _from;
    private readonly Action<NpgsqlParameterCollection> _parameters;

    private TokenSource(string columns, string from, Action<NpgsqlParameterCollection> parameters)
    {
        _columns = columns;
        _from = from;
        _parameters = parameters;
    }

    internal static TokenSource Signed(long deliveryId) => new(
        "d.id, null::timestamptz, null::timestamptz",
        "from deliveries d join subscribers s on s.id = d.subscriber_id where d.id = @delivery",
        parameters => parameters.Add(new NpgsqlParameter<long>("delivery", deliveryId)));

    internal static TokenSource Stored(byte[] hash, string purpose) => new(
        "t.delivery_id, t.expires_at, t.used_at",
        "from subscriber_tokens t join subscribers s on s.id = t.subscriber_id where t.token_hash = @hash and t.purpose = @purpose",
        parameters =>
        {
            parameters.Add(new NpgsqlParameter<byte[]>("hash", hash));
            parameters.Add(new NpgsqlParameter<string>("purpose", purpose));
        });

    /// <summary>The token's row, with <paramref name="extraColumns"/> (of <c>s</c>, say) after its own when not empty.</summary>
    public string Select(string extraColumns) =>
        $"select s.id, s.email, s.status, s.interests, s.format, s.created_at, s.confirmed_at, {_columns}{(extraColumns.Length > 0 ? ", " + extraColumns : "")} {_from}";

    /// <summary>A scalar subquery for the subscriber's id, for another statement of the same batch.</summary>
    public string SubscriberId => $"(select s.id {_from})";

    /// <summary>The token's parameters, which every statement using <see cref="Select"/> or <see cref="SubscriberId"/> needs.</summary>
    public void AddParameters(NpgsqlParameterCollection parameters) => _parameters(parameters);
}
