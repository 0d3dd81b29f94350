using System.Text.Json;

namespace Newsletter.Relevance;

/// <summary>
/// What a fan-out asks the embedding process for (as JSON on its standard input): papers without a vector, then
/// keyword lines (<see cref="TextEmbedder.InterestsText"/>) without one, the lines for at most <see cref="InterestsBudget"/>.
/// </summary>
public sealed record EmbeddingRequest(IReadOnlyList<PaperToEmbed> Papers, IReadOnlyList<string> Interests, TimeSpan InterestsBudget)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}

/// <summary>A paper as it is embedded (<see cref="TextEmbedder.PaperText"/>).</summary>
public sealed record PaperToEmbed(long Id, string Title, string? Abstract);

/// <summary>What the embedding process stored (its one line of standard output), and its own peak resident memory and CPU time.</summary>
public sealed record EmbeddingResult(int Papers, int Interests, int InterestsLeft, double PeakRssMegabytes, double CpuSeconds = 0);
