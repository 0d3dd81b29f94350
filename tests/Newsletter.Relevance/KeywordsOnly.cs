namespace Newsletter.Relevance.Evaluation;

/// <summary>The service before relevance: every keyword match, in the matcher's order, nothing else.</summary>
public sealed class KeywordsOnly : IRelevanceMethod
{
    public string Name => "keywords";

    public DigestOutcome Decide(DayContext context) =>
        new(context.KeywordMatches.Select(m => (int)m.PaperId).ToArray(), 0, 0);
}
