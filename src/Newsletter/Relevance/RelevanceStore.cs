using System.Diagnostics;
using Newsletter.Papers;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Relevance;

/// <summary>
/// The one owner of <c>paper_embeddings</c> and <c>interest_embeddings</c>: each paper's meaning, computed once for
/// all time, and each keyword line's, computed once per distinct line. Embedding runs the model, so only the processes
/// that embed (the worker's fan-out, a saved line) load it.
/// </summary>
public sealed class RelevanceStore(NpgsqlDataSource db, TextEmbedder embedder, TimeProvider clock, ILogger<RelevanceStore> logger)
{
    /// <summary>Names the vectors' model in the tables: vectors of another model are never compared with these.</summary>
    public const string Model = "all-MiniLM-L6-v2";

    /// <summary>The issue's papers as vectors, embedding (and storing) those seen for the first time.</summary>
    public async Task<IssueSimilarities> LoadIssueAsync(IReadOnlyList<IssuePaper> papers, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(papers);
        var vectors = await ReadPaperVectorsAsync(papers.Select(p => p.Id).ToArray(), ct);
        var missing = papers.Where(p => !vectors.ContainsKey(p.Id)).ToList();
        if (missing.Count > 0)
        {
            var started = Stopwatch.GetTimestamp();
            var embedded = embedder.EmbedPapers(missing.Select(p => (p.Title, (string?)p.Abstract)).ToList(), ct);
            await using var batch = db.CreateBatch();
            for (var i = 0; i < missing.Count; i++)
            {
                vectors[missing[i].Id] = embedded[i];
                var insert = new NpgsqlBatchCommand(
                    "insert into paper_embeddings (paper_id, model, vector) values (@paper, @model, @vector) on conflict (paper_id) do nothing");
                insert.Parameters.AddWithValue("paper", missing[i].Id);
                insert.Parameters.AddWithValue("model", Model);
                insert.Parameters.AddWithValue("vector", embedded[i].ToBytes());
                batch.BatchCommands.Add(insert);
            }
            await batch.ExecuteNonQueryAsync(ct);
            logger.LogInformation("Embedded {Count} new papers in {Elapsed}", missing.Count, Stopwatch.GetElapsedTime(started));
        }
        return new IssueSimilarities(papers.Select(p => (p.Id, vectors[p.Id])).ToList());
    }

    /// <summary>The issue's papers that already have vectors (the worker embeds them); null when none has. Never embeds.</summary>
    public async Task<IssueSimilarities?> LoadStoredIssueAsync(IReadOnlyList<IssuePaper> papers, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(papers);
        var vectors = await ReadPaperVectorsAsync(papers.Select(p => p.Id).ToArray(), ct);
        return vectors.Count == 0 ? null : new IssueSimilarities(papers.Where(p => vectors.ContainsKey(p.Id)).Select(p => (p.Id, vectors[p.Id])).ToList());
    }

    /// <summary>
    /// The vectors of keyword lines, by <see cref="TextEmbedder.InterestsText"/>: stored ones, and missing ones embedded
    /// while <paramref name="budget"/> lasts (a line left over is ranked by its keywords alone until a later run).
    /// </summary>
    public async Task<IReadOnlyDictionary<string, Embedding>> InterestVectorsAsync(IEnumerable<InterestQuery> queries, TimeSpan budget, CancellationToken ct)
    {
        var texts = queries.Select(TextEmbedder.InterestsText).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
        var vectors = new Dictionary<string, Embedding>(StringComparer.Ordinal);
        if (texts.Length == 0)
        {
            return vectors;
        }
        await using (var command = db.CreateCommand("select interests, vector from interest_embeddings where model = @model and interests = any(@texts)"))
        {
            command.Parameters.AddWithValue("model", Model);
            command.Parameters.AddWithValue("texts", texts);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                vectors[reader.GetString(0)] = Embedding.FromBytes(reader.GetFieldValue<byte[]>(1));
            }
        }

        var missing = texts.Where(t => !vectors.ContainsKey(t)).ToList();
        var started = Stopwatch.GetTimestamp();
        var embedded = new List<(string Text, Embedding Vector)>();
        foreach (var chunk in missing.Chunk(TextEmbedder.BatchSize * 8))
        {
            if (Stopwatch.GetElapsedTime(started) > budget)
            {
                logger.LogWarning("{Count} keyword lines are not embedded yet: their readers are ranked by keywords alone this time",
                    missing.Count - embedded.Count);
                break;
            }
            var chunkVectors = embedder.Embed(chunk, ct);
            for (var i = 0; i < chunk.Length; i++)
            {
                vectors[chunk[i]] = chunkVectors[i];
                embedded.Add((chunk[i], chunkVectors[i]));
            }
        }
        await StoreInterestVectorsAsync(embedded, ct);
        return vectors;
    }

    /// <summary>Unloads the model until the next embedding: the fan-out plans and sends without it.</summary>
    public void ReleaseModel() => embedder.Release();

    /// <summary>The vector of one line (a saved or previewed line); stored when <paramref name="store"/>.</summary>
    public async Task<Embedding?> InterestVectorAsync(InterestQuery query, bool store, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        var text = TextEmbedder.InterestsText(query);
        if (text.Length == 0)
        {
            return null;
        }
        await using (var command = db.CreateCommand("select vector from interest_embeddings where model = @model and interests = @text"))
        {
            command.Parameters.AddWithValue("model", Model);
            command.Parameters.AddWithValue("text", text);
            if (await command.ExecuteScalarAsync(ct) is byte[] stored)
            {
                return Embedding.FromBytes(stored);
            }
        }
        var vector = embedder.Embed([text], ct)[0];
        if (store)
        {
            await StoreInterestVectorsAsync([(text, vector)], ct);
        }
        return vector;
    }

    /// <summary>Every vote of the given readers (or of all readers), with the voted papers' vectors, by reader.</summary>
    public async Task<IReadOnlyDictionary<long, ProfileVotes>> VotesAsync(long? subscriberId, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select v.subscriber_id, v.paper_id, p.title, e.vector, v.vote > 0
            from reader_votes v join papers p on p.id = v.paper_id join paper_embeddings e on e.paper_id = v.paper_id and e.model = @model
            where @subscriber::bigint is null or v.subscriber_id = @subscriber
            order by v.subscriber_id, v.voted_at, v.paper_id
            """);
        command.Parameters.AddWithValue("model", Model);
        command.Parameters.Add(new NpgsqlParameter<long?>("subscriber", subscriberId));
        var votes = new Dictionary<long, List<ProfileVote>>();
        // One vote object per voted paper and direction (with one title and one vector), however many readers cast it.
        var cast = new Dictionary<(long Paper, bool More), ProfileVote>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var key = (reader.GetInt64(1), reader.GetBoolean(4));
            if (!cast.TryGetValue(key, out var vote))
            {
                var other = cast.GetValueOrDefault((key.Item1, !key.Item2));
                cast[key] = vote = new ProfileVote(key.Item1, other?.Title ?? reader.GetString(2),
                    other?.Paper ?? Embedding.FromBytes(reader.GetFieldValue<byte[]>(3)), key.Item2) { Slot = cast.Count };
            }
            var voter = reader.GetInt64(0);
            if (!votes.TryGetValue(voter, out var list))
            {
                votes[voter] = list = [];
            }
            list.Add(vote);
        }
        return votes.ToDictionary(v => v.Key, v => new ProfileVotes(v.Value));
    }

    private async Task<Dictionary<long, Embedding>> ReadPaperVectorsAsync(long[] paperIds, CancellationToken ct)
    {
        await using var command = db.CreateCommand("select paper_id, vector from paper_embeddings where model = @model and paper_id = any(@ids)");
        command.Parameters.AddWithValue("model", Model);
        command.Parameters.AddWithValue("ids", paperIds);
        var vectors = new Dictionary<long, Embedding>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            vectors[reader.GetInt64(0)] = Embedding.FromBytes(reader.GetFieldValue<byte[]>(1));
        }
        return vectors;
    }

    private async Task StoreInterestVectorsAsync(List<(string Text, Embedding Vector)> lines, CancellationToken ct)
    {
        if (lines.Count == 0)
        {
            return;
        }
        await using var command = db.CreateCommand(
            """
            insert into interest_embeddings (interests, model, vector, used_at)
            select * from unnest(@texts, @models, @vectors, @nows)
            on conflict (interests) do nothing
            """);
        command.Parameters.AddWithValue("texts", lines.Select(l => l.Text).ToArray());
        command.Parameters.AddWithValue("models", lines.Select(_ => Model).ToArray());
        command.Parameters.AddWithValue("vectors", lines.Select(l => l.Vector.ToBytes()).ToArray());
        command.Parameters.AddWithValue("nows", lines.Select(_ => clock.GetUtcNow()).ToArray());
        await command.ExecuteNonQueryAsync(ct);
    }
}
