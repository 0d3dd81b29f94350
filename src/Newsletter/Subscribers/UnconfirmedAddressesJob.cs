using System.ComponentModel;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Newsletter.Subscribers;

/// <summary>
/// Forgets addresses that asked on the public form for a digest and never confirmed, once
/// <c>Newsletter:Web:UnconfirmedRetention</c> has passed since their last request: the address, its confirmation mails
/// and links, and the mail kept about it (<see cref="SubscriberStore.DeleteUnconfirmedAsync"/>). An address an admin made
/// pending (it was never sent a confirmation mail) and a former reader asking to come back are left alone. Runs hourly,
/// at most 200 a run.
/// </summary>
public sealed class UnconfirmedAddressesJob(
    NpgsqlDataSource db,
    SubscriberStore subscribers,
    IOptions<ConfirmationOptions> options,
    TimeProvider clock,
    ILogger<UnconfirmedAddressesJob> logger)
{
    public const string RecurringJobId = "forget-unconfirmed-addresses";
    // Each delete searches the stored reports for the address (10,000 reports: about 0.2 s), so a run stays short and a
    // flood of requests is worked off over the following hours.
    private const int MaxPerRun = 200;

    [AutomaticRetry(Attempts = 0)] // It runs again within the hour.
    [DisplayName("Forget addresses never confirmed")]
    public async Task<int> RunAsync(CancellationToken ct)
    {
        var before = clock.GetUtcNow() - options.Value.UnconfirmedRetention;
        var candidates = new List<long>();
        await using (var command = db.CreateCommand(
            """
            select s.id from subscribers s
            where s.status = 'pending' and s.confirmed_at is null and s.updated_at < @before
              and exists (select from confirmation_mails m where m.subscriber_id = s.id)
            order by s.updated_at limit @max
            """))
        {
            command.Parameters.AddWithValue("before", before);
            command.Parameters.AddWithValue("max", MaxPerRun);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                candidates.Add(reader.GetInt64(0));
            }
        }

        var forgotten = 0;
        foreach (var id in candidates)
        {
            if (await subscribers.DeleteUnconfirmedAsync(id, before, ct))
            {
                forgotten++;
            }
        }

        if (forgotten > 0)
        {
            logger.LogInformation("Forgot {Count} address(es) never confirmed and last requested before {Before:u}", forgotten, before);
        }

        return forgotten;
    }
}
