using System.Diagnostics;
using System.Text.Json;

namespace Newsletter.IntegrationTests.Support;

/// <summary>What Debian's python3-feedparser (a real feed reader's parser) made of a feed.</summary>
internal sealed record ParsedFeed(int Bozo, string Error, string Version, string? Id, string? Title, IReadOnlyList<ParsedEntry> Entries);

internal sealed record ParsedEntry(string? Id, string? Title, string? Link, string? Updated, string? Summary);

/// <summary>Runs feedparser on a feed's bytes (installed by deploy/scripts/install-test-deps.sh).</summary>
internal static class FeedParser
{
    // The system's Python: feedparser is a Debian package, not in a Python a developer may have put first on PATH.
    private const string Python = "/usr/bin/python3";

    private const string Script =
        """
        import json, sys, feedparser
        d = feedparser.parse(sys.stdin.buffer.read())
        print(json.dumps({
            "bozo": int(d.bozo), "error": str(d.get("bozo_exception", "")), "version": d.version,
            "id": d.feed.get("id"), "title": d.feed.get("title"),
            "entries": [{"id": e.get("id"), "title": e.get("title"), "link": e.get("link"),
                         "updated": e.get("updated"), "summary": e.get("summary")} for e in d.entries]}))
        """;

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    public static async Task<ParsedFeed> ParseAsync(byte[] feed, CancellationToken ct)
    {
        var start = new ProcessStartInfo(Python, ["-c", Script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{Python} did not start");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var errors = process.StandardError.ReadToEndAsync(ct);
        await process.StandardInput.BaseStream.WriteAsync(feed, ct);
        process.StandardInput.Close();
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"feedparser failed ({process.ExitCode}): {await errors}");
        }
        return JsonSerializer.Deserialize<ParsedFeed>(await output, Json) ?? throw new InvalidOperationException("feedparser printed nothing");
    }
}
