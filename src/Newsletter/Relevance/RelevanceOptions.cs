using System.ComponentModel.DataAnnotations;

namespace Newsletter.Relevance;

/// <summary><c>Newsletter:Relevance</c>: how long a fan-out may spend reading new keyword lines for meaning.</summary>
public sealed class RelevanceOptions
{
    public const string Section = "Newsletter:Relevance";

    /// <summary>
    /// New keyword lines (a list just imported) are embedded by the fan-out for at most this long; readers whose line
    /// is left over get a keyword-only digest this time, and theirs is read at the next fan-out.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan InterestsEmbeddingBudget { get; set; } = TimeSpan.FromSeconds(30);
}
