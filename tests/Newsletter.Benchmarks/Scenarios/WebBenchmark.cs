using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Benchmarks.Support;
using Newsletter.Digests;
using Newsletter.Inbox;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Benchmarks.Scenarios;

/// <summary>
/// wrk against a separate <c>--role web</c> Release process: the manage page (GET) and the one-click unsubscribe
/// (POST, RFC 8058), each through the signed link of a digest sent to a real subscriber (what a mail client follows),
/// after the sample issue is ingested (the manage page previews it). Each run follows 10 s of unmeasured warm-up. A path the app does not serve is reported as such; the
/// manage run then measures /healthz instead.
/// </summary>
public static partial class WebBenchmark
{
    private const double TargetRequestsPerSecond = 3_000;
    private const double TargetP99Ms = 20;

    public static async Task<IReadOnlyList<BenchmarkResult>> RunAsync(BenchEnvironment env, string emlPath)
    {
        var connectionString = await env.CreateDatabaseAsync("bench_web");
        var settings = env.AppSettings(connectionString);
        await using var services = await InProcess.BuildAsync(settings);
        var db = services.GetRequiredService<NpgsqlDataSource>();
        // The sample issue is in, so the manage page shows its preview, as it does for a real subscriber.
        var bytes = await File.ReadAllBytesAsync(emlPath);
        var ingested = await services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(bytes, bytes.Length, "bench"), CancellationToken.None);
        if (ingested.Status != IngestStatus.Ingested)
        {
            throw new InvalidOperationException($"The sample was not ingested: {ingested.Status} {ingested.Reason}");
        }
        var (subscriber, _) = await services.GetRequiredService<SubscriberStore>().UpsertAsync(
            "reader@bench.example", "diffusion", SubscriberStatus.Active, DigestFormat.Html, CancellationToken.None);
        var (manage, unsubscribe) = await DigestLinksAsync(services, db, ingested.IssueId!.Value, subscriber.Id);

        await using var web = AppProcess.Start(env, settings, "web", "web");
        await web.WaitForHttpAsync("/healthz", TimeSpan.FromSeconds(60));
        using var http = new HttpClient { BaseAddress = new Uri(web.Url!) };

        var results = new List<BenchmarkResult>();
        var managePath = env.ManagePath.Replace("{token}", manage, StringComparison.Ordinal);
        using (var probe = await http.GetAsync(managePath))
        {
            var served = probe.StatusCode != HttpStatusCode.NotFound;
            var path = served ? managePath : "/healthz";
            var note = served ? $"GET {env.ManagePath}: HTTP {(int)probe.StatusCode}"
                : $"GET {env.ManagePath} answers 404 (public pages not merged yet): measured GET /healthz instead";
            results.AddRange(await WrkAsync(env, web, served ? "GET /manage/{token}" : "GET /healthz (manage page missing)", path, null, note));
        }

        var unsubscribePath = env.UnsubscribePath.Replace("{token}", unsubscribe, StringComparison.Ordinal);
        using (var probe = await http.PostAsync(unsubscribePath, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")])))
        {
            if (probe.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
            {
                results.Add(new BenchmarkResult("web", "POST /unsubscribe/{token} (one-click)", 0, "req/s",
                    Target: "not served yet", Details: new Dictionary<string, string>
                    {
                        ["probe"] = $"POST {env.UnsubscribePath} answers {(int)probe.StatusCode}: the public pages are not merged yet; nothing measured",
                    }));
            }
            else
            {
                var script = Path.Combine(env.WorkDirectory, "one-click.lua");
                await File.WriteAllTextAsync(script,
                    """
                    wrk.method = "POST"
                    wrk.body = "List-Unsubscribe=One-Click"
                    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
                    """);
                results.AddRange(await WrkAsync(env, web, "POST /unsubscribe/{token} (one-click)", unsubscribePath, script,
                    $"POST {env.UnsubscribePath}: HTTP {(int)probe.StatusCode}"));
            }
        }
        return results;
    }

    private static async Task<BenchmarkResult[]> WrkAsync(BenchEnvironment env, AppProcess web, string name, string path, string? script, string note)
    {
        List<string> Arguments(string duration)
        {
            List<string> args = ["-t", env.WrkThreads.ToString(CultureInfo.InvariantCulture), "-c", env.WrkConnections.ToString(CultureInfo.InvariantCulture),
                "-d", duration, "--latency"];
            if (script is not null)
            {
                args.AddRange(["-s", script]);
            }
            args.Add(web.Url + path);
            return args;
        }

        // Warm-up, not measured: the JIT's tiered compilation and the pools settle in the first seconds.
        await InProcess.RunToolAsync("wrk", Arguments("10s"), TimeSpan.FromMinutes(1));

        var load = BenchEnvironment.LoadAverage();
        var cpuBefore = web.CpuSeconds();
        var (elapsed, output) = await InProcess.RunToolAsync("wrk", Arguments(env.WrkDuration), TimeSpan.FromMinutes(10));
        var cpu = web.CpuSeconds() - cpuBefore;

        var rps = double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var p99 = Milliseconds(Percentile99().Match(output));
        var errors = NonSuccess().Match(output) is { Success: true } m ? m.Groups[1].Value : "0";
        var details = new Dictionary<string, string>
        {
            ["probe"] = note,
            ["wrk"] = $"-t{env.WrkThreads} -c{env.WrkConnections} -d{env.WrkDuration} --latency",
            ["p50 latency"] = BenchEnvironment.Format(Milliseconds(Percentile50().Match(output)), "ms"),
            ["non-2xx/3xx responses"] = errors,
            ["socket errors"] = SocketErrors().Match(output) is { Success: true } s ? s.Value : "none",
            ["web process CPU (user+sys) per request"] = BenchEnvironment.Format(cpu * 1e6 / Math.Max(1, rps * elapsed.TotalSeconds), "µs"),
            ["load average at start"] = load,
        };
        return
        [
            new BenchmarkResult("web", $"{name} requests/s", Math.Round(rps, 0), "req/s",
                Target: $">= {TargetRequestsPerSecond:N0} req/s", TargetMet: rps >= TargetRequestsPerSecond && errors == "0", Details: details),
            new BenchmarkResult("web", $"{name} p99 latency", Math.Round(p99, 2), "ms",
                Target: $"under {TargetP99Ms} ms", TargetMet: p99 < TargetP99Ms),
        ];
    }

    /// <summary>The manage and one-click links of a digest of the issue sent to the subscriber: a ledger row, signed links.</summary>
    private static async Task<(string Manage, string Unsubscribe)> DigestLinksAsync(IServiceProvider services, NpgsqlDataSource db, long issueId, long subscriberId)
    {
        await using var command = db.CreateCommand(
            """
            insert into deliveries (issue_id, subscriber_id, generation, status, paper_ids, created_at, updated_at, sent_at)
            values (@issue, @subscriber, 1, 'sent', '{}', now(), now(), now())
            returning id
            """);
        command.Parameters.AddWithValue("issue", issueId);
        command.Parameters.AddWithValue("subscriber", subscriberId);
        var deliveryId = (long)(await command.ExecuteScalarAsync())!;
        var keys = await services.GetRequiredService<DigestLinkKeyStore>().GetKeysAsync(CancellationToken.None);
        return (keys.Sign(deliveryId, TokenPurpose.Manage), keys.Sign(deliveryId, TokenPurpose.Unsubscribe));
    }

    private static double Milliseconds(Match match)
    {
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, "m" => value * 60_000, _ => value };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline)]
    private static partial Regex Percentile99();

    [GeneratedRegex(@"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline)]
    private static partial Regex Percentile50();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex NonSuccess();

    [GeneratedRegex(@"Socket errors:[^\n]*")]
    private static partial Regex SocketErrors();
}
