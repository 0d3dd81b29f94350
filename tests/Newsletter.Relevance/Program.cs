using System.Globalization;
using System.Text.Json;
using Newsletter.Relevance.Evaluation;
using Newsletter.Relevance.Service;

// Usage: Newsletter.Relevance [--data DIR] [--cache DIR] [--table-only] [--pairs] [--diagnose MODEL] METHOD...
//        (--pairs: also a reader for each pair of readers, their lines joined by OR and their papers united)
//        Newsletter.Relevance [--data DIR] --cost MODEL      (MODEL: minilm | minilm-service | minilm-int8 | arctic ...)
//        Newsletter.Relevance [--data DIR] --scoring-cost VOTES   (DigestRanker.Rank for 100,000 readers)
//        Newsletter.Relevance [--data DIR] --service [METHOD...]   (the real application on the PostgreSQL server of
//                                                                    NEWSLETTER_TEST_PG; tests/relevance.sh --service starts one)
//   METHOD: keywords | profile[:knobs] (the service's classes) | knn:knobs | emb:knobs (explorations); knobs are
//   key=value,... (see each method's class).
var data = "../shared/relevance";
var cacheFolder = Path.Combine(Path.GetTempPath(), "newsletter-relevance-cache");
var specs = new List<string>();
var jsonLines = true;
var diagnose = new List<string>();
string? cost = null;
int? scoringVotes = null;
var service = false;
var pairs = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--data": data = args[++i]; break;
        case "--cache": cacheFolder = args[++i]; break;
        case "--table-only": jsonLines = false; break;
        case "--diagnose": diagnose.Add(args[++i]); break;
        case "--cost": cost = args[++i]; break;
        case "--service": service = true; break;
        case "--pairs": pairs = true; break;
        case "--scoring-cost": scoringVotes = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        default: specs.Add(args[i]); break;
    }
}

if (specs.Count == 0 && !service)
{
    specs.Add("keywords");
}

var set = JudgementSet.Load(data);
var ownReaders = set.Readers.Select(r => r.Id).ToHashSet();
if (pairs)
{
    set = set.WithPairs();
}
if (cost is not null)
{
    // Alone in its process, so that memory and load time are the model's.
    CostProbe.Print(ModelChoice.Named(cost), set);
    return;
}

EmbeddingExperiment.AllPapers = set.Papers;
var caches = new Dictionary<string, EmbeddingCache>();
EmbeddingCache Cache(string model) =>
    caches.TryGetValue(model, out var c) ? c : caches[model] = EmbeddingCache.Load(ModelChoice.Named(model), set, cacheFolder);

foreach (var model in diagnose)
{
    Diagnostics.Print(set, Cache(model), ModelChoice.Named(model).QueryPrefix);
}

TfidfVectors? tfidf = null;
IPaperVectors Vectors(Knobs knobs)
{
    var name = knobs.Text("model", "minilm");
    IPaperVectors Model(string m) => m == "tfidf"
        ? tfidf ??= new TfidfVectors(set)
        : new ModelVectors(Cache(m), ModelChoice.Named(m).QueryPrefix);
    var vectors = knobs.Number("blend", 1) >= 1 ? Model(name) : new BlendedVectors(Model(name), Model(knobs.Text("with", "tfidf")), knobs.Number("blend", 1));
    if (knobs.Number("tw", 0) > 0 && vectors is ModelVectors byModel)
    {
        vectors = new TitleWeightedVectors(byModel, knobs.Number("tw", 0));
    }
    return knobs.Number("jitter", 1) < 1 ? new JitteredVectors(vectors, knobs.Number("jitter", 1), (int)knobs.Number("seed", 1)) : vectors;
}

if (scoringVotes is { } votesPerReader)
{
    var vectors = new ModelVectors(Cache("minilm"), "");
    ScoringProbe.Print(set, vectors, 20_000, votesPerReader);
    ScoringProbe.Print(set, vectors, 100_000, votesPerReader);
    return;
}

var results = new List<ReaderScore>();
foreach (var spec in specs)
{
    var knobs = new Knobs(spec);
    IRelevanceMethod method = knobs.Kind switch
    {
        "keywords" => new KeywordsOnly(),
        "emb" => new EmbeddingExperiment(knobs, Cache(knobs.Text("model", "arctic")), ModelChoice.Named(knobs.Text("model", "arctic")).QueryPrefix),
        "knn" => new KnnExperiment(knobs, Vectors(knobs), set.Papers),
        "profile" => new ProfileMethod(knobs, Vectors(knobs), set.Papers,
            knobs.Number("sent", 0) > 0 ? PassageVectors.Load(ModelChoice.Named(knobs.Text("model", "minilm")), set, cacheFolder) : null),
        _ => throw new ArgumentException($"Unknown method '{knobs.Kind}'."),
    };
    foreach (var reader in set.Readers)
    {
        var score = Simulation.Run(method, set, reader);
        results.Add(score);
        if (jsonLines)
        {
            Console.WriteLine(JsonSerializer.Serialize(score));
        }
    }
}

if (service)
{
    var server = Environment.GetEnvironmentVariable("NEWSLETTER_TEST_PG")
        ?? throw new InvalidOperationException("--service needs a PostgreSQL server in NEWSLETTER_TEST_PG (tests/relevance.sh --service starts one)");
    var replay = new ServiceReplay(set, data, server);
    foreach (var score in await replay.RunAsync(CancellationToken.None))
    {
        results.Add(score);
        if (jsonLines)
        {
            Console.WriteLine(JsonSerializer.Serialize(score));
        }
    }
    // The service's method run in process on the same days: any digest that differs is the replay's to explain.
    var profile = new Knobs("profile");
    ServiceComparison.Print(set, replay.Digests, new ProfileMethod(profile, Vectors(profile), set.Papers));
}

var keywordF1 = set.Readers.ToDictionary(r => r.Id, r => Simulation.Run(new KeywordsOnly(), set, r).F1);
Console.WriteLine();
Console.WriteLine($"{"method",-60} {"reader",-18} {"P",5} {"R",5} {"F1",5} {"nDCG",5} {"shown",5} {"hid",4} {"sug",4} {"sug+",4}");
foreach (var group in results.GroupBy(r => r.Method))
{
    foreach (var r in group)
    {
        var flag = r.F1 < keywordF1[r.Reader] - 0.05 ? " <kw" : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Cut(r.Method, 60),-60} {r.Reader,-18} {r.Precision,5:F2} {r.Recall,5:F2} {r.F1,5:F2} {r.Ndcg10,5:F2} {r.Shown,5} {r.Hidden,4} {r.Suggested,4} {r.SuggestedRelevant,4}{flag}"));
    }

    Mean("MEAN", group.ToArray());
    if (pairs)
    {
        // The set's own readers and the pairs made from them, apart: the issue's numbers are the first.
        Mean("MEAN (the set)", group.Where(r => ownReaders.Contains(r.Reader)).ToArray());
        Mean("MEAN (pairs)", group.Where(r => !ownReaders.Contains(r.Reader)).ToArray());
    }

    void Mean(string label, ReaderScore[] scores)
    {
        var worst = scores.Min(r => r.F1 - keywordF1[r.Reader]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Cut(group.Key, 60),-60} {label,-18} {scores.Average(r => r.Precision),5:F2} {scores.Average(r => r.Recall),5:F2} {scores.Average(r => r.F1),5:F3} {scores.Average(r => r.Ndcg10),5:F3} {scores.Sum(r => r.Shown),5} {scores.Sum(r => r.Hidden),4} {scores.Sum(r => r.Suggested),4} {scores.Sum(r => r.SuggestedRelevant),4} worst dF1 {worst:+0.00;-0.00}"));
    }
}

static string Cut(string s, int n) => s.Length <= n ? s : s[..n];
