namespace Newsletter.Hosting;

/// <summary>How to start this application again, as a child process that runs one verb.</summary>
public static class ThisApplication
{
    /// <summary>
    /// A program and its arguments for <paramref name="verb"/>. This application is the assembly this class is in, not
    /// the entry assembly (a test host or the relevance replay runs the app in its own process): the same <c>dotnet</c>
    /// with newsletter.dll when run as <c>dotnet newsletter.dll</c>, else the apphost beside newsletter.dll, else the
    /// single-file executable itself.
    /// </summary>
    public static (string FileName, IReadOnlyList<string> Arguments) Command(string verb)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var dll = typeof(ThisApplication).Assembly.Location;
        if (dll.Length == 0)
        {
            return (host, [verb]);
        }
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return (host, [dll, verb]);
        }
        var apphost = Path.ChangeExtension(dll, OperatingSystem.IsWindows() ? ".exe" : null);
        return File.Exists(apphost) ? (apphost, [verb]) : ("dotnet", [dll, verb]);
    }
}
