namespace Newsletter.IntegrationTests.Support;

/// <summary>
/// The token xunit cancels when a test times out or the run is aborted, under one short name every test class
/// imports (GlobalUsings.cs), so no class declares its own.
/// </summary>
internal static class TestCancellation
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;
}
