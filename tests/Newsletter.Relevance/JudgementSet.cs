using System.Text.Json;
using Newsletter.Inbox;
using Newsletter.Papers;
using System.Text.Json.Serialization;

namespace Newsletter.Relevance.Evaluation;

/// <summary>One paper of a listing, with its place in the whole set (its id in the simulation).</summary>
public sealed record SetPaper(int Id, int Day, string ArxivId, string Title, string Abstract);

/// <summary>A judged reader: what they typed, and the papers relevant to what they really want.</summary>
public sealed record SetReader(string Id, string Description, string Interests, IReadOnlySet<string> Relevant);

/// <summary>The judgement set of ../shared/relevance: the listings in day order and the readers.</summary>
public sealed class JudgementSet
{
    private JudgementSet(IReadOnlyList<string> days, IReadOnlyList<IReadOnlyList<SetPaper>> listings, IReadOnlyList<SetReader> readers)
    {
        Days = days;
        Listings = listings;
        Readers = readers;
        Papers = listings.SelectMany(l => l).ToArray();
    }

    public IReadOnlyList<string> Days { get; }

    public IReadOnlyList<IReadOnlyList<SetPaper>> Listings { get; }

    public IReadOnlyList<SetPaper> Papers { get; }

    public IReadOnlyList<SetReader> Readers { get; }

    /// <summary>
    /// The set with a reader for each pair of readers too (id <c>video-generation+rl-for-reasoning</c>): their lines
    /// joined by OR, their relevant papers united. A reader with two interests, which none of the set's readers is.
    /// </summary>
    public JudgementSet WithPairs()
    {
        var pairs = new List<SetReader>(Readers);
        for (var a = 0; a < Readers.Count; a++)
        {
            for (var b = a + 1; b < Readers.Count; b++)
            {
                pairs.Add(new SetReader($"{Readers[a].Id}+{Readers[b].Id}", "", $"{Readers[a].Interests} OR {Readers[b].Interests}",
                    Readers[a].Relevant.Concat(Readers[b].Relevant).ToHashSet()));
            }
        }

        return new JudgementSet(Days, Listings, pairs);
    }

    public static JudgementSet Load(string folder)
    {
        var options = new JsonSerializerOptions { PropertyNameCaseInsensitive = true };
        var days = JsonSerializer.Deserialize<DayJson[]>(File.ReadAllText(Path.Combine(folder, "papers.json")), options)
            ?? throw new InvalidDataException("papers.json is empty.");
        var judgements = JsonSerializer.Deserialize<JudgementsJson>(File.ReadAllText(Path.Combine(folder, "judgements.json")), options)
            ?? throw new InvalidDataException("judgements.json is empty.");
        // The papers as the service stores them: each day's .eml through the service's parser; papers.json only
        // gives each title its arXiv id (the listing's text carries none).
        var arxivByTitle = days.SelectMany(d => d.Papers).ToDictionary(p => TextNormalizer.TitleKey(p.Title), p => p.ArxivId);
        var parser = new TrendingEmailParser();
        var listings = new List<IReadOnlyList<SetPaper>>();
        var id = 0;
        for (var d = 0; d < judgements.Days.Length; d++)
        {
            var parsed = parser.ParseFile(Path.Combine(folder, judgements.Days[d] + ".eml"));
            listings.Add(parsed.Papers.Select(p => new SetPaper(id++, d, arxivByTitle[TextNormalizer.TitleKey(p.Title)], p.Title, p.Abstract)).ToArray());
        }

        var readers = judgements.Readers.Select(r => new SetReader(r.Id, r.Description, r.Interests, r.Relevant.ToHashSet())).ToArray();
        return new JudgementSet(judgements.Days, listings, readers);
    }

    private sealed record DayJson(string Date, PaperJson[] Papers);

    private sealed record PaperJson(string ArxivId, string Title, [property: JsonPropertyName("abstract")] string Abstract);

    private sealed record JudgementsJson(string[] Days, ReaderJson[] Readers);

    private sealed record ReaderJson(string Id, string Description, string Interests, string[] Relevant);
}
