using System.Text.Json.Serialization;

namespace Newsletter.Papers;

/// <summary>What <see cref="TrendingEmailParser"/> reads out of one email. The JSON of the `parse` verb is this shape.</summary>
public sealed record ParsedListing(
    string? MessageId,
    string? From,
    string? Subject,
    DateOnly? IssueDate,
    IReadOnlyList<ParsedPaper> Papers)
{
    /// <summary>What the parser had to guess, for the operator (a charset it did not know, text not valid in its charset).</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>One paper of a listing. Text is already normalised (whitespace, NFC, entities decoded); it is data, never markup.</summary>
public sealed record ParsedPaper(
    string Title,
    string Abstract,
    string? ArxivId,
    IReadOnlyList<string> Links);
