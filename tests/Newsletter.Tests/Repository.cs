namespace Newsletter.Tests;

/// <summary>The checkout the tests run from.</summary>
internal static class Repository
{
    /// <summary>The folder with Newsletter.sln, above the test binaries.</summary>
    public static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Newsletter.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Newsletter.sln not found above the test folder.");
    }
}
