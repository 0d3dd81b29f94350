using System.ComponentModel.DataAnnotations;

namespace Newsletter.Relevance;

/// <summary><c>Newsletter:Relevance</c>: how long a fan-out may spend reading new papers and keyword lines for meaning.</summary>
public sealed class RelevanceOptions : IValidatableObject
{
    public const string Section = "Newsletter:Relevance";

    /// <summary>
    /// How long one pass of the saved-lines job (<see cref="SavedLinesEmbeddingJob"/>) embeds new keyword lines before
    /// it hands over to the next pass, and how long a fan-out embeds lines still new (saved moments before the listing);
    /// readers whose line is left over get a keyword-only digest this time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan InterestsEmbeddingBudget { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a fan-out waits for the embedding process (start, model load, new papers, then new lines within
    /// <see cref="InterestsEmbeddingBudget"/>) before it stops it and sends with what is stored: papers without a
    /// vector are ranked by their keywords, and the next fan-out embeds them.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "02:00:00")]
    public TimeSpan EmbeddingTimeout { get; set; } = TimeSpan.FromMinutes(3);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (EmbeddingTimeout <= InterestsEmbeddingBudget)
        {
            yield return new ValidationResult(
                $"EmbeddingTimeout ({EmbeddingTimeout}) must be longer than InterestsEmbeddingBudget ({InterestsEmbeddingBudget}): the embedding process also starts, loads the model and embeds the new papers.",
                [nameof(EmbeddingTimeout)]);
        }
    }
}
