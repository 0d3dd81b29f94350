namespace Newsletter.Benchmarks.Support;

/// <summary>
/// The garbage collections this process ran since a point, as gen0/gen1/gen2 (a gen2 is counted in all three). Shown
/// beside a measurement so that a run that paid for another run's garbage stands out.
/// </summary>
public readonly struct GcCollections
{
    private readonly int[] _at;

    private GcCollections(int[] at) => _at = at;

    public static GcCollections Now() => new([GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)]);

    public string Since()
    {
        var now = Now()._at;
        var at = _at;
        return string.Join('/', now.Select((count, generation) => count - at[generation]));
    }
}
