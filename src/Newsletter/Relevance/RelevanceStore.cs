using System.Diagnostics;
using Microsoft.Extensions.Options;
using Newsletter.Papers;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Relevance;

/// <summary>
/// The one owner of <c>paper_embeddings</c> and <c>interest_embeddings</c>: each paper's meaning, computed once for
/// all time, and each keyword line's, computed once per distinct line. A fan-out reads them and has what is missing
/// embedded by a short-lived process (<see cref="EmbeddingProcess"/>), so the worker never loads the model; that
/// process (<c>newsletter embed</c>) and the web process's interests preview run the model in process.
/// </summary>
public sealed class RelevanceStore(NpgsqlDataSource db, TextEmbedder embedder, EmbeddingProcess embeddingProcess,
    IOptions<RelevanceOptions> options, TimeProvider clock, ILogger<RelevanceStore> logger)
{
    /// <summary>Names the vectors' model in the tables: vectors of another model are never compared with these.</summary>
    public const string Model = "all-MiniLM-L6-v2";

    /// <summary>
    /// At most this many papers are embedded in one call and stored in one statement, so a process stopped midway keeps
    /// what it did; each call keeps every core busy until its last batch, so fewer, evenly sized calls waste less.
    /// </summary>
    private const int PapersPerStore = 64;

    /// <summary>
    /// What a fan-out ranks with: the vectors of <paramref name="papers"/>, and the rows of the <paramref name="queries"/>'
    /// lines against them (read as they stream in: a line's vector is never held). Papers and lines not stored yet (and
    /// voted papers still without one) are embedded first by <see cref="EmbeddingProcess"/>; if it fails or runs out of
    /// time, what is still missing is ranked by keywords alone this time, and said so.
    /// </summary>
    /// <param name="issueId">The daily issue <paramref name="papers"/> are, whose previous listing's papers closeness is
    /// standardised against too (<see cref="IssueSimilarities"/>); null for a week's papers, enough on their own.</param>
    public async Task<FanOutVectors> LoadForFanOutAsync(IReadOnlyList<IssuePaper> papers, IEnumerable<InterestQuery> queries, long? issueId,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(papers);
        ArgumentNullException.ThrowIfNull(queries);
        var texts = queries.Select(TextEmbedder.InterestsText).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
        var paperVectors = await ReadPaperVectorsAsync(papers.Select(p => p.Id).ToArray(), ct);
        var missingPapers = papers.Where(p => !paperVectors.ContainsKey(p.Id)).Select(p => new PaperToEmbed(p.Id, p.Title, p.Abstract)).ToList();
        var missingLines = await LinesWithoutVectorAsync(texts, ct);
        // A vote on a paper whose issue could not be embedded counts once its paper has a vector.
        var votedPapers = await VotedPapersWithoutVectorAsync(ct);
        var toEmbed = missingPapers.Concat(votedPapers.Where(v => !missingPapers.Any(p => p.Id == v.Id))).ToList();
        if (toEmbed.Count + missingLines.Count > 0)
        {
            await embeddingProcess.RunAsync(new EmbeddingRequest(toEmbed, missingLines, options.Value.InterestsEmbeddingBudget), ct);
            foreach (var (id, vector) in await ReadPaperVectorsAsync(missingPapers.Select(p => p.Id).ToArray(), ct))
            {
                paperVectors[id] = vector;
            }
            if (missingPapers.Count(p => !paperVectors.ContainsKey(p.Id)) is var papersLeft and > 0)
            {
                logger.LogWarning("{Count} papers have no vector: they are ranked by their keywords alone and suggested to no one this time",
                    papersLeft);
            }
        }

        var issue = new IssueSimilarities([.. papers.Where(p => paperVectors.ContainsKey(p.Id)).Select(p => (p.Id, paperVectors[p.Id]))],
            await ListingBeforeAsync(issueId, ct));
        // With no paper read for meaning, no line can rank one: everyone gets their keyword matches.
        var lines = issue.PaperCount == 0 ? LineRows.None(issue) : await ReadLineRowsAsync(texts, issue, ct);
        if (issue.PaperCount > 0 && missingLines.Count > 0 && texts.Length - lines.Count is var linesLeft and > 0)
        {
            logger.LogWarning("{Count} keyword lines are not embedded yet: their readers are ranked by keywords alone this time, and the saved-lines job embeds them",
                linesLeft);
        }
        return new FanOutVectors(issue, lines);
    }

    /// <summary>
    /// Runs the model in this process on what a fan-out asked for (<c>newsletter embed</c>): the papers not stored
    /// meanwhile, then the lines while <see cref="EmbeddingRequest.InterestsBudget"/> lasts, storing as it goes.
    /// </summary>
    /// <param name="steps">Notes when the stored vectors were read, the first papers stored and the last.</param>
    public async Task<EmbeddingResult> EmbedAsync(EmbeddingRequest request, StartupSteps? steps, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = Stopwatch.GetTimestamp();
        var requested = request.Papers.DistinctBy(p => p.Id).ToList();
        // Which papers another process stored meanwhile is read while the first chunk embeds: the process's first
        // connection takes longer than the model's load. A paper stored meanwhile is at most embedded again, never stored twice.
        var storedRead = ReadPaperVectorsAsync(requested.Select(p => p.Id).ToArray(), ct);
        Dictionary<long, Embedding>? stored = null;
        var papers = new List<PaperToEmbed>();
        // Evenly sized calls: each keeps every core busy until its last batch.
        var calls = Math.Max(1, (requested.Count + PapersPerStore - 1) / PapersPerStore);
        foreach (var chunk in requested.Chunk(Math.Max(1, (requested.Count + calls - 1) / calls)))
        {
            var first = stored is null;
            var toEmbed = first ? chunk : [.. chunk.Where(p => !stored!.ContainsKey(p.Id))];
            var vectors = embedder.EmbedPapers([.. toEmbed.Select(p => (p.Title, p.Abstract))], ct);
            if (first)
            {
                stored = await storedRead;
                steps?.Mark("stored vectors read");
            }
            var fresh = toEmbed.Select((p, i) => (Paper: p, Vector: vectors[i])).Where(e => !stored!.ContainsKey(e.Paper.Id)).ToList();
            await StorePaperVectorsAsync([.. fresh.Select(e => (e.Paper.Id, e.Vector))], ct);
            papers.AddRange(fresh.Select(e => e.Paper));
            if (first)
            {
                steps?.Mark($"first {chunk.Length} papers stored");
            }
        }
        await storedRead; // With no paper requested, the read still ends before the lines begin.
        if (papers.Count > 0)
        {
            steps?.Mark($"{papers.Count} papers stored");
            logger.LogInformation("Embedded {Count} new papers in {Elapsed}", papers.Count, Stopwatch.GetElapsedTime(started));
        }

        started = Stopwatch.GetTimestamp();
        var lines = request.Interests.Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        var embedded = 0;
        foreach (var chunk in lines.Chunk(TextEmbedder.BatchSize * 8))
        {
            if (Stopwatch.GetElapsedTime(started) > request.InterestsBudget)
            {
                break;
            }
            var vectors = embedder.Embed(chunk, ct);
            await StoreInterestVectorsAsync([.. chunk.Select((t, i) => (t, vectors[i]))], ct);
            embedded += chunk.Length;
        }
        if (embedded > 0)
        {
            logger.LogInformation("Embedded {Count} new keyword lines in {Elapsed}", embedded, Stopwatch.GetElapsedTime(started));
        }
        return new EmbeddingResult(papers.Count, embedded, lines.Count - embedded, 0);
    }

    /// <summary>
    /// Reads the keyword lines saved since the last call (<c>keyword_lines_to_embed</c>, filled by triggers on
    /// <c>subscribers</c>) for meaning ahead of the next fan-out: at most <paramref name="maxLines"/> of them, embedded
    /// by <see cref="EmbeddingProcess"/> within <see cref="RelevanceOptions.InterestsEmbeddingBudget"/>. A line is
    /// taken off the list once it has a vector (or says no topic); what the process did not reach stays for the next call.
    /// </summary>
    public async Task<SavedLinesResult> EmbedSavedLinesAsync(int maxLines, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLines, 1);
        var saved = new List<string>();
        await using (var command = db.CreateCommand("select interests from keyword_lines_to_embed limit @max"))
        {
            command.Parameters.AddWithValue("max", maxLines);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                saved.Add(reader.GetString(0));
            }
        }
        if (saved.Count == 0)
        {
            return new SavedLinesResult(0, 0, 0, More: false);
        }

        // Stored lines are normalised, so they parse; one that no longer does (a stricter parser) is ranked by nothing.
        var texts = saved.ToDictionary(line => line, line => InterestQuery.TryParse(line, out var query, out _) ? TextEmbedder.InterestsText(query) : "",
            StringComparer.Ordinal);
        var distinct = texts.Values.Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
        var missing = await LinesWithoutVectorAsync(distinct, ct);
        var embedded = 0;
        if (missing.Count > 0)
        {
            embedded = (await embeddingProcess.RunAsync(new EmbeddingRequest([], missing, options.Value.InterestsEmbeddingBudget), ct))?.Interests ?? 0;
            missing = await LinesWithoutVectorAsync([.. missing], ct);
        }

        var stillMissing = missing.ToHashSet(StringComparer.Ordinal);
        var done = saved.Where(line => !stillMissing.Contains(texts[line])).ToArray();
        await using (var command = db.CreateCommand("delete from keyword_lines_to_embed where interests = any(@done)"))
        {
            command.Parameters.AddWithValue("done", done);
            await command.ExecuteNonQueryAsync(ct);
        }
        return new SavedLinesResult(saved.Count, embedded, saved.Count - done.Length, More: saved.Count == maxLines || done.Length < saved.Count);
    }

    /// <summary>
    /// Forgets the vectors of keyword lines no subscriber has any more (a reader deleted, or their line changed), but those
    /// stored from <paramref name="storedBefore"/> on: a line saved while this runs is judged by the next run. Returns how
    /// many were forgotten.
    /// </summary>
    public async Task<int> ForgetUnusedLinesAsync(DateTimeOffset storedBefore, CancellationToken ct)
    {
        var texts = new HashSet<string>(StringComparer.Ordinal);
        await using (var command = db.CreateCommand("select distinct interests from subscribers"))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                // A line that no longer parses is ranked by nothing, so its vector is not kept for it.
                if (InterestQuery.TryParse(reader.GetString(0), out var query, out _) && TextEmbedder.InterestsText(query) is { Length: > 0 } text)
                {
                    texts.Add(text);
                }
            }
        }
        await using var delete = db.CreateCommand(
            """
            delete from interest_embeddings e
            where e.used_at < @before and not exists (select from unnest(@texts) as kept (text) where kept.text = e.interests)
            """);
        delete.Parameters.AddWithValue("before", storedBefore);
        delete.Parameters.AddWithValue("texts", texts.ToArray());
        return await delete.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The issue's papers that already have vectors (a fan-out has them embedded), with the listing before it as
    /// the fan-out has it; null when none has. Never embeds.</summary>
    public async Task<IssueSimilarities?> LoadStoredIssueAsync(long issueId, IReadOnlyList<IssuePaper> papers, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(papers);
        var vectors = await ReadPaperVectorsAsync(papers.Select(p => p.Id).ToArray(), ct);
        return vectors.Count == 0 ? null
            : new IssueSimilarities(papers.Where(p => vectors.ContainsKey(p.Id)).Select(p => (p.Id, vectors[p.Id])).ToList(), await ListingBeforeAsync(issueId, ct));
    }

    /// <summary>
    /// The stored vectors of the papers of the listing before the issue (by its date, else the day it came; then by
    /// arrival), but those also in the issue: what a day's closeness is standardised against besides its own papers.
    /// None for the first listing, or when <paramref name="issueId"/> is null.
    /// </summary>
    private async Task<List<Embedding>> ListingBeforeAsync(long? issueId, CancellationToken ct)
    {
        var vectors = new List<Embedding>();
        if (issueId is null)
        {
            return vectors;
        }
        await using var command = db.CreateCommand(
            """
            with this as (select coalesce(issue_date, created_at::date) as day, id from issues where id = @issue),
            before as (
                select i.id from issues i, this
                where (coalesce(i.issue_date, i.created_at::date), i.id) < (this.day, this.id)
                order by coalesce(i.issue_date, i.created_at::date) desc, i.id desc
                limit 1)
            select e.vector
            from issue_papers ip join paper_embeddings e on e.paper_id = ip.paper_id and e.model = @model
            where ip.issue_id = (select id from before)
              and ip.paper_id not in (select paper_id from issue_papers where issue_id = @issue)
            order by ip.position
            """);
        command.Parameters.AddWithValue("issue", issueId.Value);
        command.Parameters.AddWithValue("model", Model);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            vectors.Add(Embedding.FromBytes(reader.GetFieldValue<byte[]>(0)));
        }
        return vectors;
    }

    /// <summary>The vector of one line (the interests preview); stored when <paramref name="store"/>.</summary>
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

    /// <summary>
    /// Every vote of the given readers (or of all readers) on a paper with a vector, by reader; the readers in a fan-out's
    /// order (by line, as DeliveryGenerations reads them), so planning walks their votes in the order they lie in memory.
    /// </summary>
    public async Task<IReadOnlyDictionary<long, ProfileVotes>> VotesAsync(long? subscriberId, CancellationToken ct)
    {
        // Each voted paper's title and vector cross the wire once, not once per vote: 25 votes each from 100,000 readers
        // would carry 4 GB of vectors for a few hundred papers.
        var papers = new Dictionary<long, (string Title, Embedding Vector)>();
        await using (var command = db.CreateCommand(
            """
            select p.id, p.title, e.vector
            from papers p join paper_embeddings e on e.paper_id = p.id and e.model = @model
            where p.id in (select v.paper_id from reader_votes v where @subscriber::bigint is null or v.subscriber_id = @subscriber)
            """))
        {
            command.Parameters.AddWithValue("model", Model);
            command.Parameters.Add(new NpgsqlParameter<long?>("subscriber", subscriberId));
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                papers[reader.GetInt64(0)] = (reader.GetString(1), Embedding.FromBytes(reader.GetFieldValue<byte[]>(2)));
            }
        }

        var votes = new Dictionary<long, ProfileVotes>();
        // One vote object per voted paper and direction, however many readers cast it; both directions share the paper's slot.
        var cast = new Dictionary<(long Paper, bool More), ProfileVote>();
        var slots = new Dictionary<long, int>();
        // A reader's rows come together: their votes gather here, then become their ProfileVotes.
        var readerVotes = new List<ProfileVote>();
        long? voter = null;
        await using (var command = db.CreateCommand(
            """
            select v.subscriber_id, v.paper_id, v.vote > 0
            from reader_votes v join subscribers s on s.id = v.subscriber_id
            where @subscriber::bigint is null or v.subscriber_id = @subscriber
            order by s.interests collate "C", v.subscriber_id, v.voted_at, v.paper_id
            """))
        {
            command.Parameters.Add(new NpgsqlParameter<long?>("subscriber", subscriberId));
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var key = (Paper: reader.GetInt64(1), More: reader.GetBoolean(2));
                if (!cast.TryGetValue(key, out var vote))
                {
                    // A paper without a vector (its embedding failed, or it was voted on since the first query) counts
                    // from the fan-out after it has one.
                    if (!papers.TryGetValue(key.Paper, out var paper))
                    {
                        continue;
                    }
                    if (!slots.TryGetValue(key.Paper, out var slot))
                    {
                        slots[key.Paper] = slot = slots.Count;
                    }
                    cast[key] = vote = new ProfileVote(key.Paper, paper.Title, paper.Vector, key.More) { Slot = slot };
                }
                if (reader.GetInt64(0) != voter)
                {
                    Keep();
                    voter = reader.GetInt64(0);
                }
                readerVotes.Add(vote);
            }
        }
        Keep();
        return votes;

        void Keep()
        {
            if (readerVotes.Count > 0)
            {
                votes[voter!.Value] = new ProfileVotes(readerVotes);
                readerVotes.Clear();
            }
        }
    }

    /// <summary>Papers readers voted on that have no vector (their issue's embedding failed), to embed with the next fan-out's.</summary>
    private async Task<List<PaperToEmbed>> VotedPapersWithoutVectorAsync(CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            select p.id, p.title, p.abstract from papers p
            where p.id in (select paper_id from reader_votes)
              and not exists (select from paper_embeddings e where e.paper_id = p.id and e.model = @model)
            """);
        command.Parameters.AddWithValue("model", Model);
        var papers = new List<PaperToEmbed>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            papers.Add(new PaperToEmbed(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }
        return papers;
    }

    /// <summary>The lines of <paramref name="texts"/> with no stored vector; only those cross the wire.</summary>
    private async Task<List<string>> LinesWithoutVectorAsync(string[] texts, CancellationToken ct)
    {
        var missing = new List<string>();
        if (texts.Length == 0)
        {
            return missing;
        }
        await using var command = db.CreateCommand(
            "select t from unnest(@texts) as t where not exists (select from interest_embeddings e where e.interests = t and e.model = @model)");
        command.Parameters.AddWithValue("model", Model);
        command.Parameters.AddWithValue("texts", texts);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            missing.Add(reader.GetString(0));
        }
        return missing;
    }

    /// <summary>The stored lines of <paramref name="texts"/> as rows against <paramref name="issue"/>, each computed as its vector arrives.</summary>
    private async Task<LineRows> ReadLineRowsAsync(string[] texts, IssueSimilarities issue, CancellationToken ct)
    {
        var rows = new LineRows(issue, texts.Length);
        if (texts.Length == 0)
        {
            return rows;
        }
        await using var command = db.CreateCommand("select interests, vector from interest_embeddings where model = @model and interests = any(@texts)");
        command.Parameters.AddWithValue("model", Model);
        command.Parameters.AddWithValue("texts", texts);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(reader.GetString(0), Embedding.FromBytes(reader.GetFieldValue<byte[]>(1)));
        }
        return rows.Complete();
    }

    private async Task StorePaperVectorsAsync(List<(long Id, Embedding Vector)> papers, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            """
            insert into paper_embeddings (paper_id, model, vector)
            select paper, @model, vector from unnest(@papers, @vectors) as u(paper, vector)
            on conflict (paper_id) do nothing
            """);
        command.Parameters.AddWithValue("model", Model);
        command.Parameters.AddWithValue("papers", papers.Select(p => p.Id).ToArray());
        command.Parameters.AddWithValue("vectors", papers.Select(p => p.Vector.ToBytes()).ToArray());
        await command.ExecuteNonQueryAsync(ct);
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

/// <summary>
/// One pass over the saved keyword lines: how many it read, how many new vectors the embedding process stored, how many
/// lines still have none, and whether lines remain for another pass.
/// </summary>
public sealed record SavedLinesResult(int Read, int Embedded, int Left, bool More);

/// <summary>A fan-out's vectors: the papers that have one, and the rows of the keyword lines that have one.</summary>
public sealed record FanOutVectors(IssueSimilarities Issue, LineRows Lines);
