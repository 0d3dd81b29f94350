using Newsletter.Relevance.Evaluation;

namespace Newsletter.Relevance.Service;

/// <summary>
/// Compares the service's digests, day by day and reader by reader, with what an in-process method decides for the
/// same days and votes: the same ids in the same order means the replay measured the same method.
/// </summary>
public static class ServiceComparison
{
    public static void Print(JudgementSet set, IReadOnlyDictionary<(int Day, string Reader), DigestOutcome> service, IRelevanceMethod method)
    {
        var same = 0;
        var differences = new List<string>();
        foreach (var reader in set.Readers)
        {
            var recorder = new Recorder(method);
            Simulation.Run(recorder, set, reader);
            for (var day = 0; day < set.Days.Count; day++)
            {
                var theirs = recorder.Decided[day];
                var mailed = service.GetValueOrDefault((day, reader.Id));
                var ours = mailed ?? new DigestOutcome([], 0, 0);
                // A digest with nothing to show is not sent (the ledger says why), so how many matches it hid is not in any mail.
                var unsentAlike = mailed is null && theirs.Shown.Count == 0;
                if (unsentAlike || (ours.Shown.SequenceEqual(theirs.Shown) && ours.Hidden == theirs.Hidden && ours.Suggested == theirs.Suggested))
                {
                    same++;
                    continue;
                }
                differences.Add($"  {reader.Id} {set.Days[day]}: service [{string.Join(' ', ours.Shown)}] hid {ours.Hidden}, " +
                    $"{method.Name} [{string.Join(' ', theirs.Shown)}] hid {theirs.Hidden}");
            }
        }
        Console.Error.WriteLine($"service: the same digest as {method.Name} for {same} of {same + differences.Count} reader-days");
        foreach (var line in differences)
        {
            Console.Error.WriteLine(line);
        }
    }

    private sealed class Recorder(IRelevanceMethod inner) : IRelevanceMethod
    {
        public Dictionary<int, DigestOutcome> Decided { get; } = [];

        public string Name => inner.Name;

        public DigestOutcome Decide(DayContext context) => Decided[context.Day] = inner.Decide(context);
    }
}
