namespace Newsletter.IntegrationTests.Admin;

/// <summary>
/// Hangfire keeps its storage in a static (JobStorage.Current) that every application built in this process overwrites:
/// tests that need jobs to land in their own database run alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialHangfireTests
{
    public const string Name = "Hangfire storage";
}
