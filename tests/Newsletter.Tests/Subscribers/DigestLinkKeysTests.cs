using System.Buffers.Text;
using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.Tests.Subscribers;

public class DigestLinkKeysTests
{
    private static readonly byte[] KeyOne = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] KeyTwo = Enumerable.Range(101, 32).Select(i => (byte)i).ToArray();

    private static DigestLinkKeys Keys(params (byte Id, byte[] Secret)[] keys) => new(keys.ToDictionary(k => k.Id, k => k.Secret));

    [Fact]
    public void Mint_ThreeLinks_EachVerifiesForItsOwnPurposeOnly()
    {
        var keys = Keys((1, KeyOne));

        var links = keys.Mint(4711);

        Assert.Equal(DigestLinkKeys.TokenLength, links.Manage.Length);
        Assert.Equal(3, new[] { links.Manage, links.Unsubscribe, links.View }.Distinct().Count());
        Assert.True(keys.TryVerify(links.Manage, TokenPurpose.Manage, out var manage));
        Assert.True(keys.TryVerify(links.Unsubscribe, TokenPurpose.Unsubscribe, out var unsubscribe));
        Assert.True(keys.TryVerify(links.View, TokenPurpose.View, out var view));
        Assert.Equal([4711L, 4711L, 4711L], [manage, unsubscribe, view]);
        // A forwarded "view in browser" link must not unsubscribe or manage anybody.
        Assert.False(keys.TryVerify(links.View, TokenPurpose.Unsubscribe, out _));
        Assert.False(keys.TryVerify(links.View, TokenPurpose.Manage, out _));
        Assert.False(keys.TryVerify(links.Manage, TokenPurpose.Confirm, out _));
    }

    [Fact]
    public void TryVerify_AnotherDeliveryIdInTheToken_IsRefused()
    {
        var keys = Keys((1, KeyOne));
        var bytes = Base64Url.DecodeFromChars(keys.Sign(4711, TokenPurpose.Unsubscribe));

        bytes[8] ^= 0x01; // Delivery 4710: somebody else's digest.

        Assert.False(keys.TryVerify(Base64Url.EncodeToString(bytes), TokenPurpose.Unsubscribe, out var deliveryId));
        Assert.Equal(0, deliveryId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("AQAAAAAAABJnAAAAAAAAAAAAAAAAAAAAAA")] // Right length and key id, MAC of zeros.
    [InlineData("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!")] // Right length, not base64url.
    [InlineData("AQAAAAAAABJn")]
    public void TryVerify_MalformedOrForged_IsRefused(string? token)
    {
        Assert.False(Keys((1, KeyOne)).TryVerify(token, TokenPurpose.Manage, out _));
    }

    [Fact]
    public void TryVerify_SignedWithAnotherDatabasesKey_IsRefused()
    {
        var token = Keys((1, KeyTwo)).Sign(4711, TokenPurpose.Manage);

        Assert.False(Keys((1, KeyOne)).TryVerify(token, TokenPurpose.Manage, out _));
    }

    [Fact]
    public void Rotation_NewLinksUseTheNewestKey_OldLinksStillWork_UntilTheirKeyIsDeleted()
    {
        var old = Keys((1, KeyOne)).Sign(4711, TokenPurpose.Manage);
        var rotated = Keys((1, KeyOne), (2, KeyTwo));

        var fresh = rotated.Sign(4712, TokenPurpose.Manage);

        Assert.Equal(2, Base64Url.DecodeFromChars(fresh)[0]);
        Assert.True(rotated.TryVerify(old, TokenPurpose.Manage, out var oldId));
        Assert.Equal(4711, oldId);
        Assert.False(Keys((2, KeyTwo)).TryVerify(old, TokenPurpose.Manage, out _));
    }

    [Fact]
    public void Constructor_NoKeyOrAShortKey_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => Keys());
        Assert.Throws<InvalidOperationException>(() => Keys((1, new byte[16])));
    }

    [Fact]
    public void SignAndSignVote_ManyThreadsAtOnce_TokensOfTheDocumentedFormatThatLinksAlreadySentCarry()
    {
        var keys = Keys((1, KeyOne), (2, KeyTwo));

        // Many signers at once share the keys' reused HMAC instances; every token must still be the format's own.
        var tokens = Enumerable.Range(1, 2_000).AsParallel().WithDegreeOfParallelism(8)
            .Select(id => (Id: (long)id, View: keys.Sign(id, TokenPurpose.View), More: keys.SignVote(id, 100 + id, more: true), Less: keys.SignVote(id, 100 + id, more: false)))
            .ToList();

        Assert.All(tokens, t =>
        {
            Assert.Equal(Expected(3, [2, .. BigEndian(t.Id)]), t.View);
            Assert.Equal(Expected(5, [2, .. BigEndian(t.Id), .. BigEndian(100 + t.Id)]), t.More);
            Assert.Equal(Expected(6, [2, .. BigEndian(t.Id), .. BigEndian(100 + t.Id)]), t.Less);
        });

        // Key id, ids, then the first 128 bits of HMAC-SHA256(newest key, purpose, key id, ids), base64url.
        static string Expected(byte purpose, byte[] signed) =>
            Base64Url.EncodeToString([.. signed, .. System.Security.Cryptography.HMACSHA256.HashData(KeyTwo, (byte[])[purpose, .. signed]).AsSpan(0, 16)]);

        static byte[] BigEndian(long value)
        {
            var bytes = new byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes, value);
            return bytes;
        }
    }
}
