using System.Buffers.Binary;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Security.Cryptography;
using Npgsql;

namespace Newsletter.Subscribers;

/// <summary>The signed tokens of one delivery's personal links; minted ones also sign its papers' vote links.</summary>
public sealed record DeliveryTokens(string Manage, string Unsubscribe, string View)
{
    internal DigestLinkKeys? Keys { get; init; }

    internal long DeliveryId { get; init; }

    /// <summary>The token of a paper's "More like this" or "Less like this" link; null for placeholder tokens (previews).</summary>
    public string? Vote(long paperId, bool more) => Keys?.SignVote(DeliveryId, paperId, more);
}

/// <summary>Reads the signing keys of digest links (<see cref="DigestLinkKeys"/>) from <c>digest_link_keys</c>, once.</summary>
public sealed class DigestLinkKeyStore(NpgsqlDataSource db)
{
    private DigestLinkKeys? _keys;

    /// <summary>The keys in <c>digest_link_keys</c>, read once per process: a key added later is used after a restart.</summary>
    public async ValueTask<DigestLinkKeys> GetKeysAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _keys) is { } loaded)
        {
            return loaded;
        }
        // Two first calls at once both read the table; the results are equal, so either may win.
        var keys = new Dictionary<byte, byte[]>();
        await using var command = db.CreateCommand("select id, secret from digest_link_keys");
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            keys[checked((byte)reader.GetInt16(0))] = reader.GetFieldValue<byte[]>(1);
        }
        var read = new DigestLinkKeys(keys);
        Volatile.Write(ref _keys, read);
        return read;
    }
}

/// <summary>
/// The personal links of a digest (manage, unsubscribe, view in browser) carry a signed token instead of a stored one:
/// key id (1 byte), delivery id (8 bytes) and the first 128 bits of HMAC-SHA256(key, purpose, key id, delivery id),
/// base64url, 34 characters. Nothing is written when a digest is sent; a link is checked by recomputing its MAC and then
/// looking its delivery up, so it dies with the delivery row (erasing a subscriber deletes theirs). The purpose is
/// signed, not carried: a forwarded "view in browser" link cannot unsubscribe anybody, as before.
/// Thread-safe; the newest key signs, every key checks.
/// </summary>
public sealed class DigestLinkKeys
{
    /// <summary>Length of a signed token; stored tokens (<see cref="SubscriberTokens"/>) are 22 characters.</summary>
    public const int TokenLength = 34;

    private const int MacBytes = 16;
    private const int TokenBytes = 1 + sizeof(long) + MacBytes;
    private readonly FrozenDictionary<byte, KeyedMac> _keys;
    private readonly byte _current;

    public DigestLinkKeys(IReadOnlyDictionary<byte, byte[]> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            throw new InvalidOperationException("digest_link_keys holds no key; the migration that makes one has not run.");
        }
        if (keys.Values.Any(k => k.Length < 32))
        {
            throw new InvalidOperationException("A digest link key is shorter than 256 bits.");
        }
        _keys = keys.ToFrozenDictionary(k => k.Key, k => new KeyedMac(k.Value));
        _current = keys.Keys.Max();
    }

    /// <summary>The three links of one delivery, signed with the newest key.</summary>
    public DeliveryTokens Mint(long deliveryId) =>
        new(Sign(deliveryId, TokenPurpose.Manage), Sign(deliveryId, TokenPurpose.Unsubscribe), Sign(deliveryId, TokenPurpose.View))
        {
            Keys = this,
            DeliveryId = deliveryId,
        };

    public string Sign(long deliveryId, TokenPurpose purpose)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(deliveryId);
        Span<byte> token = stackalloc byte[TokenBytes];
        token[0] = _current;
        BinaryPrimitives.WriteInt64BigEndian(token[1..9], deliveryId);
        Mac(_keys[_current], purpose, token[..9], token[9..]);
        return Base64Url.EncodeToString(token);
    }

    /// <summary>True when <paramref name="token"/> was signed by one of the keys for this purpose; a forged, altered or
    /// re-purposed token is false, with no hint which.</summary>
    public bool TryVerify(string? token, TokenPurpose purpose, out long deliveryId)
    {
        deliveryId = 0;
        if (purpose is not (TokenPurpose.Manage or TokenPurpose.Unsubscribe or TokenPurpose.View or TokenPurpose.Bounce))
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[TokenBytes];
        if (!TryDecode(token, bytes, out var key))
        {
            return false;
        }
        Span<byte> expected = stackalloc byte[MacBytes];
        Mac(key, purpose, bytes[..9], expected);
        var id = BinaryPrimitives.ReadInt64BigEndian(bytes[1..9]);
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes[9..]) || id <= 0)
        {
            return false;
        }
        deliveryId = id;
        return true;
    }

    /// <summary>
    /// A "More like this" or "Less like this" link of one paper in one delivery: key id, delivery id, paper id and the
    /// MAC over them and the direction, base64url (44 characters). Only this delivery's reader can vote with it.
    /// </summary>
    public string SignVote(long deliveryId, long paperId, bool more)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(deliveryId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(paperId);
        Span<byte> token = stackalloc byte[VoteTokenBytes];
        token[0] = _current;
        BinaryPrimitives.WriteInt64BigEndian(token[1..9], deliveryId);
        BinaryPrimitives.WriteInt64BigEndian(token[9..17], paperId);
        VoteMac(_keys[_current], more, token[..17], token[17..]);
        return Base64Url.EncodeToString(token);
    }

    /// <summary>True for a vote link signed by one of the keys; a forged or altered one is false, with no hint which.</summary>
    public bool TryVerifyVote(string? token, out long deliveryId, out long paperId, out bool more)
    {
        deliveryId = paperId = 0;
        more = false;
        Span<byte> bytes = stackalloc byte[VoteTokenBytes];
        if (!TryDecode(token, bytes, out var key))
        {
            return false;
        }
        Span<byte> expected = stackalloc byte[MacBytes];
        foreach (var direction in (ReadOnlySpan<bool>)[true, false])
        {
            VoteMac(key, direction, bytes[..17], expected);
            if (CryptographicOperations.FixedTimeEquals(expected, bytes[17..]))
            {
                deliveryId = BinaryPrimitives.ReadInt64BigEndian(bytes[1..9]);
                paperId = BinaryPrimitives.ReadInt64BigEndian(bytes[9..17]);
                more = direction;
                return deliveryId > 0 && paperId > 0;
            }
        }
        return false;
    }

    /// <summary>Decodes a token of exactly <paramref name="bytes"/>' length and finds the key its first byte names.</summary>
    private bool TryDecode(string? token, Span<byte> bytes, out KeyedMac key)
    {
        key = null!;
        // The status form: TryDecodeFromChars throws on a character outside the alphabet.
        return token is not null && token.Length == Base64Url.GetEncodedLength(bytes.Length) &&
            Base64Url.DecodeFromChars(token, bytes, out _, out var written) == System.Buffers.OperationStatus.Done && written == bytes.Length &&
            _keys.TryGetValue(bytes[0], out key!);
    }

    /// <summary>Length of a signed vote token.</summary>
    public const int VoteTokenLength = 44;

    private const int VoteTokenBytes = 1 + sizeof(long) + sizeof(long) + MacBytes;

    private static void VoteMac(KeyedMac key, bool more, ReadOnlySpan<byte> keyIdDeliveryAndPaper, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[1 + 17];
        input[0] = more ? (byte)5 : (byte)6;
        keyIdDeliveryAndPaper.CopyTo(input[1..]);
        key.Compute(input, destination);
    }

    private static void Mac(KeyedMac key, TokenPurpose purpose, ReadOnlySpan<byte> keyIdAndDelivery, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[1 + 9];
        input[0] = PurposeByte(purpose);
        keyIdAndDelivery.CopyTo(input[1..]);
        key.Compute(input, destination);
    }

    /// <summary>
    /// HMAC-SHA256 with one key, truncated to <see cref="MacBytes"/>. Instances are reused, one per thread at a time: the
    /// key's pads are computed once per instance instead of once per token (a digest signs about twenty).
    /// </summary>
    private sealed class KeyedMac(byte[] key)
    {
        private readonly ConcurrentBag<IncrementalHash> _idle = [];

        public void Compute(ReadOnlySpan<byte> input, Span<byte> destination)
        {
            if (!_idle.TryTake(out var hmac))
            {
                hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
            }
            Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
            hmac.AppendData(input);
            hmac.GetHashAndReset(mac);
            _idle.Add(hmac);
            mac[..MacBytes].CopyTo(destination);
        }
    }

    // Fixed numbers, not the enum's order: reordering TokenPurpose must not invalidate links in people's inboxes. 5 and 6
    // are the vote links' directions (VoteMac).
    private static byte PurposeByte(TokenPurpose purpose) => purpose switch
    {
        TokenPurpose.Manage => 1,
        TokenPurpose.Unsubscribe => 2,
        TokenPurpose.View => 3,
        TokenPurpose.Bounce => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(purpose), purpose, "Only digest links and return paths are signed."),
    };
}
