using Newsletter.Digests;
using Newsletter.Relevance;
using Newsletter.Subscribers;

namespace Newsletter.Tests.Relevance;

public class DigestRankerTests
{
    // An issue of 30 papers on eight topic axes. Axis 0: video generation; 1: video understanding; 2: speech; the
    // rest are unrelated topics, which papers 11-30 spread over (a real issue is mostly other topics).
    private static readonly (long Id, string Title, string Abstract, float[] Topic)[] Papers =
    [
        .. Enumerable.Range(11, 20).Select(i => ((long)i, $"Topic {i}", "Something else entirely.",
            new float[] { 0, 0, 0, i % 5 == 0 ? 1 : 0.2f, i % 5 == 1 ? 1 : 0.2f, i % 5 == 2 ? 1 : 0.2f, i % 5 == 3 ? 1 : 0.2f, i % 5 == 4 ? 1 : 0.2f })),
        (1, "Long Video Generation with Diffusion", "A model for minute-long clips.", [0.9f, 0.1f, 0, 0, 0, 0, 0, 0.2f]),
        (2, "Video Understanding Benchmark", "We evaluate video generation and captioning models.", [0.1f, 1, 0, 0, 0, 0, 0, 0]),
        (3, "Text-to-Clip Synthesis", "Animating prompts into moving pictures with diffusion.", [0.95f, 0.2f, 0, 0, 0, 0, 0, 0.1f]),
        (4, "Streaming Speech Synthesis", "Low-latency text to speech.", [0, 0, 1, 0, 0, 0, 0, 0]),
        (5, "Graph Neural Networks", "Message passing at scale.", [0, 0, 0, 1, 0, 0, 0, 0]),
        (6, "Protein Folding", "Structures from sequences.", [0, 0, 0, 0, 1, 0, 0, 0]),
        (7, "Tabular Learning", "Trees beat transformers again.", [0, 0, 0, 0, 0, 1, 0, 0]),
        (8, "Weather Forecasting", "Global models of the atmosphere.", [0, 0, 0, 0, 0, 0, 1, 0]),
        (9, "Compiler Optimisation", "Learning to schedule loops.", [0, 0, 0, 1, 0, 0, 0, 1]),
        (10, "Medical Video Generation", "Synthesizing endoscopy clips.", [0.9f, 0, 0, 0, 0.3f, 0, 0, 0]),
    ];

    private static readonly IssueMatcher Matcher = new(Papers.Select(p => new MatchablePaper(p.Id, p.Title, p.Abstract)).ToArray());

    private static readonly Embedding VideoGenerationLine = Embedding.Normalize([1, 0.15f, 0, 0, 0, 0, 0, 0]);

    private static Embedding Vector(long id) => Embedding.Normalize(Papers.Single(p => p.Id == id).Topic);

    private static ProfileVote Vote(long id, bool more) => new(id, Papers.Single(p => p.Id == id).Title, Vector(id), more);

    private static RankedDigest Rank(string line, Embedding? lineVector, ProfileVote[] votes, int maxSuggestions = 5, RelevanceSettings? settings = null)
    {
        var query = InterestQuery.Parse(line);
        var issue = new IssueSimilarities(Papers.Select(p => (p.Id, Vector(p.Id))).ToArray());
        return DigestRanker.Rank(issue, new ReaderProfile(line, lineVector, votes), Matcher.Match(query),
            SuggestionFilter.Suggestible(Matcher, query), maxSuggestions, settings);
    }

    private static IssuePlanner Planner(Dictionary<string, Embedding> lines, Dictionary<long, ProfileVotes>? votes = null)
    {
        var issue = new IssueSimilarities(Papers.Select(p => (p.Id, Vector(p.Id))).ToArray());
        return new(Matcher, issue, LineRows.Of(issue, lines), votes ?? [], new InterestQueryCache().TryGetOrParse);
    }

    [Fact]
    public void PlanAll_ReadersSharingALine_EachGetsWhatTheRankerDecidesForThem()
    {
        // One line as two strings and spelled another way: the same query, planned from the line as stored.
        string[] texts = ["video -medical", string.Concat("video ", "-medical"), "video  -medical", "speech"];
        var queries = texts.Select(InterestQuery.Parse).ToArray();
        var lines = new Dictionary<string, Embedding>
        {
            [TextEmbedder.InterestsText(queries[0])] = VideoGenerationLine,
            [TextEmbedder.InterestsText(queries[3])] = Vector(4),
        };
        ProfileVote[] votes = [Vote(1, true) with { Slot = 0 }, Vote(2, false) with { Slot = 1 }];
        var readers = texts.Select((text, i) => new PlanRecipient(1 + i, text, 5, NoRepeats: false)).ToArray();

        var plans = Planner(lines, new Dictionary<long, ProfileVotes> { [2] = new(votes) })
            .PlanAll(readers, new Dictionary<long, HashSet<long>>()).ToList();

        ProfileVote[][] votesOf = [[], votes, [], []];
        for (var r = 0; r < readers.Length; r++)
        {
            var text = queries[r].ToString();
            var expected = Rank(text, lines[TextEmbedder.InterestsText(queries[r])], votesOf[r]);
            Assert.Equal(expected.Shown.Select(p => p.PaperId), plans[r].PaperIds);
            Assert.Equal(expected.Hidden.Select(p => p.PaperId), plans[r].HiddenIds);
            Assert.Equal(expected.Suggestions.Select(p => p.PaperId), plans[r].SuggestedIds);
        }

        Assert.Equal([2L], plans[1].HiddenIds);
        Assert.DoesNotContain(10L, plans[0].PaperIds);
        Assert.Equal(plans[0].PaperIds, plans[2].PaperIds);
    }

    [Fact]
    public void PlanAll_ThousandsOfLinesInNoOrder_EachReaderGetsTheirOwnLinesPlan()
    {
        // More lines than one thread takes at a time (1,024), and readers in two chunks.
        string[] topics = ["video", "speech", "\"video generation\"", "protein OR weather", "diffusion -medical"];
        var random = new Random(7);
        var readers = Enumerable.Range(0, IssuePlanner.ChunkSize + 2000)
            .Select(i => new PlanRecipient(1 + i, $"{topics[i % topics.Length]} -unrelated{i % 2500}", 5, NoRepeats: false))
            .OrderBy(_ => random.Next()).ToArray();
        var lines = topics.ToDictionary(topic => TextEmbedder.InterestsText(InterestQuery.Parse(topic)), _ => VideoGenerationLine);
        foreach (var reader in readers)
        {
            lines[TextEmbedder.InterestsText(InterestQuery.Parse(reader.Interests))] = reader.SubscriberId % 3 == 0 ? Vector(4) : VideoGenerationLine;
        }
        var votes = new Dictionary<long, ProfileVotes> { [10] = new([Vote(1, false) with { Slot = 0 }]) };

        var plans = Planner(lines, votes).PlanAll(readers, new Dictionary<long, HashSet<long>>()).ToList();

        var oneByOne = Planner(lines, votes);
        var scratch = new IssuePlanner.PlanningScratch();
        Assert.Equal(readers.Select(r => r.SubscriberId), plans.Select(p => p.SubscriberId));
        for (var r = 0; r < readers.Length; r++)
        {
            var expected = oneByOne.Plan(readers[r], null, scratch);
            Assert.Equal(expected.PaperIds, plans[r].PaperIds);
            Assert.Equal(expected.SuggestedIds, plans[r].SuggestedIds);
            Assert.Equal(expected.HiddenIds, plans[r].HiddenIds);
            Assert.Equal(expected.Reasons, plans[r].Reasons);
        }

        Assert.Contains(plans, plan => plan.SuggestedIds.Length > 0);
        Assert.Contains(plans, plan => plan.PaperIds.Contains(4L));
        Assert.Contains(plans, plan => plan.PaperIds.Contains(1L));
    }

    [Fact]
    public void PlanAll_ALineThatNoLongerParses_TellsTheLedgerWhyAndPlansTheOtherReaders()
    {
        var query = InterestQuery.Parse("\"video generation\"");
        var lines = new Dictionary<string, Embedding> { [TextEmbedder.InterestsText(query)] = VideoGenerationLine };
        PlanRecipient[] readers = [new(1, "diffusion \"low rank", 5, NoRepeats: false), new(2, "\"video generation\"", 5, NoRepeats: false),
            new(3, "diffusion \"low rank", 5, NoRepeats: false)];

        var plans = Planner(lines).PlanAll(readers, new Dictionary<long, HashSet<long>>()).ToList();

        Assert.All([plans[0], plans[2]], plan =>
        {
            Assert.Empty(plan.PaperIds);
            Assert.StartsWith("interests could not be read: ", plan.Note, StringComparison.Ordinal);
            Assert.Contains("never closed", plan.Note, StringComparison.Ordinal);
        });
        Assert.Null(plans[1].Note);
        Assert.Contains(1L, plans[1].PaperIds);
    }

    [Fact]
    public void PlanAll_NoLineReadForMeaningYet_PlansTheKeywordMatches()
    {
        PlanRecipient[] readers = [new(1, "\"video generation\"", 5, NoRepeats: false)];

        var plan = Assert.Single(Planner([]).PlanAll(readers, new Dictionary<long, HashSet<long>>()));

        Assert.Equal([1L, 2, 10], plan.PaperIds.Order());
    }

    [Fact]
    public void PlanAll_NoRepeatsReader_LeavesOutThePapersTheyWereSentFromMatchesAndSuggestions()
    {
        var query = InterestQuery.Parse("\"video generation\"");
        var lines = new Dictionary<string, Embedding> { [TextEmbedder.InterestsText(query)] = VideoGenerationLine };
        PlanRecipient[] readers = [new(1, query.ToString(), 5, NoRepeats: true), new(2, query.ToString(), 5, NoRepeats: false)];
        var received = new Dictionary<long, HashSet<long>> { [1] = [1, 3], [2] = [1, 3] };

        var plans = Planner(lines).PlanAll(readers, received).ToList();

        Assert.Equal([2L, 10], plans[0].PaperIds.Where(id => id is 1 or 2 or 3 or 10).Order());
        Assert.Contains(1L, plans[1].PaperIds);
        Assert.Equal(3L, Assert.Single(plans[1].SuggestedIds));
    }

    [Fact]
    public void Plan_OneThreadsScratch_TheNextReaderOfTheLineGetsItsPlan_AndTheNextFanOutPlansTheLineAgain()
    {
        var query = InterestQuery.Parse("\"video generation\"");
        var line = query.ToString();
        var lines = new Dictionary<string, Embedding> { [TextEmbedder.InterestsText(query)] = VideoGenerationLine };
        var scratch = new IssuePlanner.PlanningScratch();
        var planner = Planner(lines);

        var withMeaning = planner.Plan(new PlanRecipient(1, line, 5, NoRepeats: false), null, scratch);
        var sameLineNext = planner.Plan(new PlanRecipient(2, line, 3, NoRepeats: false), null, scratch);
        var keywordsOnly = Planner([]).Plan(new PlanRecipient(3, line, 5, NoRepeats: false), null, scratch);

        Assert.Equal([3L], withMeaning.SuggestedIds);
        Assert.Equal(withMeaning.PaperIds, sameLineNext.PaperIds);
        Assert.Equal(2, sameLineNext.SubscriberId);
        Assert.Empty(keywordsOnly.SuggestedIds);
        Assert.Equal([1L, 2, 10], keywordsOnly.PaperIds.Order());
    }

    [Fact]
    public void Rank_NoVotes_ShowsEveryKeywordMatchAndHidesNothing()
    {
        var digest = Rank("\"video generation\"", VideoGenerationLine, []);

        Assert.Equal([1L, 2, 10], digest.Matches.Select(p => p.PaperId).Order());
        Assert.Empty(digest.Hidden);
        Assert.All(digest.Matches, p => Assert.Equal(RankReason.Keywords, p.Reason));
    }

    [Fact]
    public void Rank_NoVotes_SuggestsThePaperThatSaysItInOtherWords()
    {
        var digest = Rank("\"video generation\"", VideoGenerationLine, []);

        var suggestion = Assert.Single(digest.Suggestions);
        Assert.Equal(3, suggestion.PaperId);
        Assert.Equal(RankReason.Interests, suggestion.Reason);
        Assert.Equal([1L, 2, 10, 3], digest.Shown.Take(3).Select(p => p.PaperId).Order().Append(digest.Shown.Last().PaperId));
    }

    [Fact]
    public void Rank_DislikedPaperLikeAMatch_HidesThatMatchOnly()
    {
        var digest = Rank("\"video generation\"", VideoGenerationLine, [Vote(1, true), Vote(2, false)]);

        Assert.Equal([2L], digest.Hidden.Select(p => p.PaperId));
        Assert.Equal([1L, 10], digest.Matches.Select(p => p.PaperId).Order());
    }

    [Fact]
    public void Rank_DislikedPaperLikeTitleMatches_KeepsThemInTheMailBelowTheRest()
    {
        // Papers 1 and 10 say "video generation" in their title, paper 2 only in its abstract; the reader liked a speech
        // paper and disliked paper 3, which is as much about video generation as 1 and 10.
        var digest = Rank("\"video generation\"", null, [Vote(4, true), Vote(3, false)]);

        Assert.Equal([2L], digest.Hidden.Select(p => p.PaperId));
        Assert.Equal([1L, 10], digest.Matches.Select(p => p.PaperId).Order());
        Assert.All(digest.Matches, p => Assert.True(p.Score < 0, $"paper {p.PaperId} scores {p.Score}"));
    }

    [Fact]
    public void Rank_DislikedPaperLikeAMatchOfThreeKeywordsInItsAbstract_HidesIt()
    {
        // Paper 3's abstract has all three words and its title none: as many points as one word in a title, but not a title hit.
        var digest = Rank("animating OR prompts OR pictures", null, [Vote(4, true), Vote(1, false)]);

        Assert.Equal([3L], digest.Hidden.Select(p => p.PaperId));
        Assert.Empty(digest.Matches);
    }

    [Fact]
    public void Rank_TitleMatchTheReaderVotedDownItself_IsHidden()
    {
        var digest = Rank("\"video generation\"", null, [Vote(4, true), Vote(1, false)]);

        Assert.Contains(1L, digest.Hidden.Select(p => p.PaperId));
        Assert.DoesNotContain(1L, digest.Shown.Select(p => p.PaperId));
    }

    [Fact]
    public void Rank_LikedPaper_SuggestsAPaperLikeItAndNamesIt()
    {
        var digest = Rank("speech", null, [Vote(1, true)]);

        var suggestion = digest.Suggestions[0];
        Assert.Equal(3, suggestion.PaperId);
        Assert.Equal(RankReason.LikedPaper, suggestion.Reason);
        Assert.Equal("Long Video Generation with Diffusion", suggestion.LikedPaper!.Title);
    }

    [Fact]
    public void Rank_ExcludedTerm_IsNeverSuggested()
    {
        var digest = Rank("speech -medical", null, [Vote(1, true)]);

        Assert.DoesNotContain(10L, digest.Suggestions.Select(p => p.PaperId));
        Assert.Contains(3L, digest.Suggestions.Select(p => p.PaperId));
    }

    [Fact]
    public void Rank_NoSuggestionsChosen_SuggestsNothing()
    {
        Assert.Empty(Rank("\"video generation\"", VideoGenerationLine, [], maxSuggestions: 0).Suggestions);
    }

    [Fact]
    public void Rank_VoteLess_MovesTheMatchDown()
    {
        var before = Rank("video", VideoGenerationLine, []).Matches.Select(p => p.PaperId).ToArray();
        var after = Rank("video", VideoGenerationLine, [Vote(10, false), Vote(1, true)]).Matches.Select(p => p.PaperId).ToArray();

        Assert.Equal(1, before[0]);
        Assert.True(Array.IndexOf(after, 10L) == -1 || Array.IndexOf(after, 10L) > Array.IndexOf(before, 10L));
    }

    [Fact]
    public void Rank_TheSameVotesInAnotherOrder_GiveTheSameDigest()
    {
        // 30 papers: the last six (papers 5-10) lie past the last full vector of eight, where the nearest vote is
        // found apart from the rest.
        ProfileVote[] votes = [Vote(4, true), Vote(10, false), Vote(1, true), Vote(6, false), Vote(9, true), Vote(2, false)];

        var forward = Rank("video OR speech", VideoGenerationLine, votes);
        var reversed = Rank("video OR speech", VideoGenerationLine, [.. votes.Reverse()]);

        Assert.Equal(Describe(forward.Matches), Describe(reversed.Matches));
        Assert.Equal(Describe(forward.Hidden), Describe(reversed.Hidden));
        Assert.Equal(Describe(forward.Suggestions), Describe(reversed.Suggestions));
        Assert.Contains(10L, forward.Hidden.Concat(forward.Matches).Select(p => p.PaperId));

        static string[] Describe(IReadOnlyList<RankedPaper> papers) => [.. papers.Select(p => $"{p.PaperId}:{p.Score:F5}")];
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Rank_ADayFullOfTheReadersTopic_SuggestsItsPapersOnceTheListingBeforeShowsWhatIsTypical(bool byLine)
    {
        // Half of a small issue is video generation: among its own papers alone, none stands two deviations out.
        (long, Embedding)[] issue =
        [
            (101, Embedding.Normalize([1, 0.1f, 0, 0, 0, 0, 0, 0])),
            (102, Embedding.Normalize([1, 0, 0.1f, 0, 0, 0, 0, 0])),
            (103, Embedding.Normalize([1, 0, 0, 0.1f, 0, 0, 0, 0])),
            (104, Embedding.Normalize([0, 0, 0, 1, 0, 0, 0, 0])),
            (105, Embedding.Normalize([0, 0, 0, 0, 1, 0, 0, 0])),
            (106, Embedding.Normalize([0, 0, 0, 0, 0, 1, 0, 0])),
        ];
        // The day before was an ordinary day: other topics.
        Embedding[] before = [.. Enumerable.Range(0, 20).Select(i => Embedding.Normalize([0, 0, 0, 0, 0, 0, i % 2, 1 - (i % 2) * 0.5f]))];
        var liked = new ProfileVote(7, "Minute-long video clips", Embedding.Normalize([1, 0.05f, 0.05f, 0, 0, 0, 0, 0]), More: true);
        var profile = byLine ? new ReaderProfile("quantum", VideoGenerationLine, []) : new ReaderProfile("quantum", null, [liked]);

        RankedDigest Suggest(Embedding[] reference) =>
            DigestRanker.Rank(new IssueSimilarities(issue, reference), profile, [], null, 5);

        Assert.Empty(Suggest([]).Suggestions);
        var suggested = Suggest(before).Suggestions;
        Assert.Equal([101L, 102, 103], suggested.Select(p => p.PaperId).Order());
        Assert.All(suggested, p => Assert.Equal(byLine ? RankReason.Interests : RankReason.LikedPaper, p.Reason));
    }

    [Fact]
    public void Rank_TitleHit_OutranksASlightlyCloserAbstractHit()
    {
        // "diffusion" is in paper 1's title and only in paper 3's abstract; paper 3 is a little closer to the line.
        var withoutBonus = Rank("diffusion", VideoGenerationLine, [], settings: new RelevanceSettings { TitleBonus = 0 });
        var withBonus = Rank("diffusion", VideoGenerationLine, []);

        Assert.Equal([3L, 1], withoutBonus.Matches.Select(p => p.PaperId));
        Assert.Equal([1L, 3], withBonus.Matches.Select(p => p.PaperId));
    }

    [Fact]
    public void Rank_ReadersWithTheSameLine_ShareOneSimilarityRow()
    {
        var issue = new IssueSimilarities(Papers.Select(p => (p.Id, Vector(p.Id))).ToArray());

        var first = issue.InterestRow(new ReaderProfile("video", VideoGenerationLine, []));
        var second = issue.InterestRow(new ReaderProfile("video", VideoGenerationLine, [Vote(4, true)]));

        Assert.Same(first, second);
    }

    [Fact]
    public void Unsuggestible_LineWithExclusion_MarksExactlyThePapersItsMinusTermsExclude()
    {
        var query = InterestQuery.Parse("video -diffusion");
        var issue = new IssueSimilarities(Papers.Select(p => (p.Id, Vector(p.Id))).ToArray());

        var unsuggestible = SuggestionFilter.Unsuggestible(Matcher, issue, query);

        var suggestible = SuggestionFilter.Suggestible(Matcher, query)!;
        Assert.Equal([1L, 3], Enumerable.Range(0, issue.PaperCount).Where(i => unsuggestible[i]).Select(i => issue.PaperIds[i]).Order());
        Assert.All(Enumerable.Range(0, issue.PaperCount), i => Assert.Equal(!suggestible.Contains(issue.PaperIds[i]), unsuggestible[i]));
    }
}
