using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newsletter.IntegrationTests.Support;
using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.IntegrationTests.Web;

/// <summary>
/// An address typed into the public form and never confirmed is somebody's personal data that they never agreed to
/// leave with us: it is forgotten once <c>Web:UnconfirmedRetention</c> has passed. Real PostgreSQL.
/// </summary>
public sealed class UnconfirmedAddressTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RetentionJob_ForgetsAddressesNeverConfirmedAfterTheRetention_AndKeepsEveryoneElse()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 1, 9, 0, 0, TimeSpan.Zero));
        await using var app = await TestApp.BuildAsync(replace: services => services.AddSingleton<TimeProvider>(clock));
        var store = app.Services.GetRequiredService<SubscriberStore>();
        var mails = app.Services.GetRequiredService<ConfirmationMails>();
        var tokens = app.Services.GetRequiredService<SubscriberTokens>();

        async Task<long> RequestAsync(string email)
        {
            var id = await store.RequestAsync(email, "diffusion", DigestFormat.Html, Ct);
            Assert.NotNull(await mails.TryRequestAsync(id, 3, Ct));
            await tokens.MintAsync(id, TokenPurpose.Confirm, clock.GetUtcNow().AddDays(3), Ct);
            return id;
        }

        var neverConfirmed = await RequestAsync("never@example.org");
        var askedAgain = await RequestAsync("again@example.org");
        // A reader who was subscribed, left, and asked to come back: their history is theirs to delete, not ours.
        var returning = await RequestAsync("returning@example.org");
        Assert.True(await store.ConfirmAsync(returning, Ct));
        Assert.True(await store.TransitionAsync(returning, [SubscriberStatus.Active], SubscriberStatus.Unsubscribed, Ct));
        await RequestAsync("returning@example.org");
        // Made pending by an admin, without a confirmation mail: the admin decides.
        var byAdmin = await store.RequestAsync("admin-made@example.org", "diffusion", DigestFormat.Html, Ct);

        clock.Advance(TimeSpan.FromDays(20));
        await RequestAsync("again@example.org");
        clock.Advance(TimeSpan.FromDays(11));

        var forgotten = await app.Services.GetRequiredService<UnconfirmedAddressesJob>().RunAsync(Ct);

        Assert.Equal(1, forgotten);
        Assert.Null(await store.GetAsync(neverConfirmed, Ct));
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from confirmation_mails where subscriber_id = @id", ("id", neverConfirmed)));
        Assert.Equal(0L, await app.ScalarAsync<long>("select count(*) from subscriber_tokens where subscriber_id = @id", ("id", neverConfirmed)));
        foreach (var kept in new[] { askedAgain, returning, byAdmin })
        {
            Assert.Equal(SubscriberStatus.Pending, (await store.GetAsync(kept, Ct))!.Status);
        }

        // The one who asked again 11 days ago goes once the retention has passed since then.
        clock.Advance(TimeSpan.FromDays(20));
        Assert.Equal(1, await app.Services.GetRequiredService<UnconfirmedAddressesJob>().RunAsync(Ct));
        Assert.Null(await store.GetAsync(askedAgain, Ct));
        Assert.NotNull(await store.GetAsync(returning, Ct));
    }

    [Fact]
    public async Task SpentLinksJob_DeletesLinksExpiredOrUsedBeforeTheRetention_AndKeepsTheRest()
    {
        // Anyone may type a subscribed address into the form a few times an hour: each "already subscribed" mail's link stayed for good.
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 3, 1, 9, 0, 0, TimeSpan.Zero));
        await using var app = await TestApp.BuildAsync(replace: services => services.AddSingleton<TimeProvider>(clock));
        var reader = await app.AddSubscriberAsync("reader@example.org", "diffusion");
        var tokens = app.Services.GetRequiredService<SubscriberTokens>();
        var expiredLongAgo = await tokens.MintAsync(reader.Id, TokenPurpose.Manage, clock.GetUtcNow().AddDays(3), Ct);
        var usedLongAgo = await tokens.MintAsync(reader.Id, TokenPurpose.Confirm, clock.GetUtcNow().AddDays(3), Ct);
        Assert.True(await tokens.UseOnceAsync(usedLongAgo, TokenPurpose.Confirm, Ct));
        var lasting = await tokens.MintAsync(reader.Id, TokenPurpose.Manage, null, Ct);
        clock.Advance(TimeSpan.FromDays(30));
        var expiredLately = await tokens.MintAsync(reader.Id, TokenPurpose.Manage, clock.GetUtcNow().AddDays(3), Ct);
        clock.Advance(TimeSpan.FromDays(4));

        var deleted = await app.Services.GetRequiredService<SpentLinksJob>().RunAsync(Ct);

        Assert.Equal(2, deleted);
        Assert.Equal([.. new[] { lasting, expiredLately }.Select(Hash).Order(StringComparer.Ordinal)],
            await app.RowsAsync("select encode(token_hash, 'hex') from subscriber_tokens order by 1"));

        static string Hash(string token) => Convert.ToHexStringLower(SubscriberTokens.HashToken(token));
    }
}
