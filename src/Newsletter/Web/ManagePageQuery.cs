using Newsletter.Relevance;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Web;

/// <summary>What the manage page shows of its link's reader: the token's match, the reader's choices and votes.</summary>
public sealed record ManagePageData(TokenMatch Token, ReaderChoices Choices, IReadOnlyList<ReaderVote> Votes);

/// <summary>Reads <see cref="ManagePageData"/> in one round trip to PostgreSQL: the token's row with the choices, then the votes.</summary>
public sealed class ManagePageQuery(NpgsqlDataSource db, SubscriberTokens tokens)
{
    private static readonly ManagePageData Unknown = new(new TokenMatch(TokenState.Unknown), ReaderChoices.Default, []);

    public async Task<ManagePageData> LoadAsync(string? token, CancellationToken ct)
    {
        if (await tokens.SourceAsync(token, TokenPurpose.Manage, ct) is not { } source)
        {
            return Unknown;
        }

        await using var batch = db.CreateBatch();
        var subscriber = new NpgsqlBatchCommand(source.Select(SubscriberStore.ChoicesColumns));
        source.AddParameters(subscriber.Parameters);
        batch.BatchCommands.Add(subscriber);
        var votes = new NpgsqlBatchCommand(ReaderVotes.ListSql(source.SubscriberId));
        source.AddParameters(votes.Parameters);
        batch.BatchCommands.Add(votes);

        await using var reader = await batch.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return Unknown;
        }
        var match = tokens.Read(reader);
        var choices = SubscriberStore.ReadChoices(reader, TokenSource.ExtraColumn);
        await reader.NextResultAsync(ct);
        var list = new List<ReaderVote>();
        while (await reader.ReadAsync(ct))
        {
            list.Add(ReaderVotes.ReadVote(reader));
        }
        return new ManagePageData(match, choices, list);
    }
}
