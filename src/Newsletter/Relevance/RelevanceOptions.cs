using System.ComponentModel.DataAnnotations;

namespace Newsletter.Relevance;

/// <summary><c>Newsletter:Relevance</c>: how long a fan-out may spend reading new papers and keyword lines for meaning, and where the model is kept.</summary>
public sealed class RelevanceOptions : IValidatableObject
{
    public const string Section = "Newsletter:Relevance";

    /// <summary>
    /// How long one pass of the saved-lines job (<see cref="SavedLinesEmbeddingJob"/>) embeds new keyword lines before
    /// it hands over to the next pass, and how long a fan-out embeds lines still new (saved moments before the listing);
    /// readers whose line is left over get a keyword-only digest this time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00",
        ErrorMessage = "Newsletter:Relevance:InterestsEmbeddingBudget must be between 1 second and 1 hour: with none, no keyword line is ever read for meaning.")]
    public TimeSpan InterestsEmbeddingBudget { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a fan-out waits for the embedding process (start, model load, new papers, then new lines within
    /// <see cref="InterestsEmbeddingBudget"/>) before it stops it and sends with what is stored: papers without a
    /// vector are ranked by their keywords, and the next fan-out embeds them.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "02:00:00")]
    public TimeSpan EmbeddingTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Where the sentence model is kept optimized, saved by the first process that loads it: the service user's own
    /// data folder (under systemd, its state directory, its HOME), not a shared temporary folder another user could
    /// fill first; the temporary folder only when the user has no home.
    /// </summary>
    public static readonly string DefaultModelDirectory = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData,
        Environment.SpecialFolderOption.DoNotVerify) is { Length: > 0 } data
        ? Path.Combine(data, "newsletter", "models")
        : Path.Combine(Path.GetTempPath(), "newsletter-models");

    /// <summary>
    /// Where the embedding model is kept as ONNX Runtime has optimized it (about 90 MB, saved the first time it is
    /// loaded): reading it from there takes a fraction of optimizing the package's model again. Any folder only the
    /// service may write; an empty one costs the next load about a second.
    /// </summary>
    public string ModelDirectory { get; set; } = DefaultModelDirectory;

    /// <summary>Why the folder cannot be made or written by this process, or null: made if missing, then a file written and removed.</summary>
    private static string? CannotWrite(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".write-test-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex.Message.TrimEnd('.');
        }
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Path.IsPathFullyQualified(ModelDirectory))
        {
            yield return new ValidationResult(
                $"ModelDirectory ({ModelDirectory}) must be an absolute path: the embedding model is written to and read from there.",
                [nameof(ModelDirectory)]);
        }
        else if (CannotWrite(ModelDirectory) is { } problem)
        {
            yield return new ValidationResult(
                $"ModelDirectory ({ModelDirectory}) cannot be written ({problem}): the embedding model is saved and read there, so no paper or keyword line could be read for meaning. Name a folder the service's user may write (its home has none, or no home is set).",
                [nameof(ModelDirectory)]);
        }
        if (EmbeddingTimeout <= InterestsEmbeddingBudget)
        {
            yield return new ValidationResult(
                $"EmbeddingTimeout ({EmbeddingTimeout}) must be longer than InterestsEmbeddingBudget ({InterestsEmbeddingBudget}): the embedding process also starts, loads the model and embeds the new papers.",
                [nameof(EmbeddingTimeout)]);
        }
    }
}
