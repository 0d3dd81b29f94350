using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Newsletter.Hosting;
using Newsletter.Papers;
using Newsletter.Relevance.Evaluation;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Relevance.Service;

/// <summary>
/// The relevance protocol through the real service: the whole application (web and jobs) on a database of its own,
/// each reader subscribed with their keyword line, each day's listing dropped into its inbox folder, the digests
/// received by SMTP and read from their text part, votes cast by GET and POST of the digests' own links. The digests
/// it records are scored by <see cref="Simulation"/> like any other method's.
/// </summary>
public sealed partial class ServiceReplay(JudgementSet set, string dataFolder, string serverConnectionString)
{
    /// <summary>A day's fan-out may first load the model and embed the listing on two busy cores.</summary>
    private static readonly TimeSpan DayTimeout = TimeSpan.FromMinutes(15);

    private readonly Dictionary<(int Day, string Reader), DigestOutcome> _digests = [];
    private readonly Dictionary<(int Day, string Reader), int> _leftForWebCopy = [];

    /// <summary>What each reader's digest showed each day, in set ids; a reader the service sent nothing is absent.</summary>
    public IReadOnlyDictionary<(int Day, string Reader), DigestOutcome> Digests => _digests;

    public async Task<IReadOnlyList<ReaderScore>> RunAsync(CancellationToken ct)
    {
        var database = "relevance_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(serverConnectionString, $"create database {database}", ct);
        var connectionString = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = database }.ConnectionString;
        var dropFolder = Directory.CreateTempSubdirectory("newsletter-relevance-inbox-").FullName;
        try
        {
            await using var smtp = await MailCapture.StartAsync(ct);
            var port = FreePort();
            await using var app = await NewsletterServer.BuildAsync(["--contentRoot", AppContext.BaseDirectory], ProcessRole.All, builder =>
            {
                builder.Configuration.AddInMemoryCollection(Settings(connectionString, dropFolder, smtp.Port, port));
                builder.WebHost.UseUrls($"http://localhost:{port}");
                // Our JSON lines and table own stdout.
                builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
                return Task.CompletedTask;
            }, ct);
            await app.StartAsync(ct);
            try
            {
                await ReplayAsync(app, smtp, connectionString, dropFolder, ct);
            }
            finally
            {
                await app.StopAsync(CancellationToken.None);
            }
        }
        finally
        {
            Directory.Delete(dropFolder, recursive: true);
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(serverConnectionString, $"drop database if exists {database} with (force)", CancellationToken.None);
        }

        foreach (var reader in set.Readers)
        {
            var cut = Enumerable.Range(Simulation.VotingDays, set.Days.Count - Simulation.VotingDays).Sum(d => _leftForWebCopy.GetValueOrDefault((d, reader.Id)));
            if (cut > 0)
            {
                await Console.Error.WriteLineAsync($"service: {reader.Id}: {cut} keyword matches of the scored days left for the web copy (size limit)");
            }
        }
        return [.. set.Readers.Select(r => Simulation.Run(new RecordedDigests(r.Id, _digests), set, r))];
    }

    private async Task ReplayAsync(WebApplication app, MailCapture smtp, string connectionString, string dropFolder, CancellationToken ct)
    {
        var subscribers = app.Services.GetRequiredService<SubscriberStore>();
        var readerOf = new Dictionary<string, SetReader>(StringComparer.OrdinalIgnoreCase);
        foreach (var (reader, i) in set.Readers.Select((r, i) => (r, i)))
        {
            // Vouched for by the admin, as an import would: active at once, suggestions at the default.
            var email = $"reader{i + 1}@relevance.example.org";
            await subscribers.UpsertAsync(email, reader.Interests, SubscriberStatus.Active, DigestFormat.Html, ct);
            readerOf[email] = reader;
        }

        // One browser per reader: the antiforgery cookie of a vote page comes back with its POST.
        var browsers = set.Readers.ToDictionary(r => r.Id, _ => new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true }));
        try
        {
            var received = 0;
            for (var day = 0; day < set.Days.Count; day++)
            {
                var clock = Stopwatch.StartNew();
                // Written under another name, then renamed: the poller never sees half a file.
                var eml = Path.Combine(dataFolder, set.Days[day] + ".eml");
                var partial = Path.Combine(dropFolder, set.Days[day] + ".part");
                File.Copy(eml, partial);
                File.Move(partial, Path.Combine(dropFolder, set.Days[day] + ".eml"));

                var sent = await WaitForDayAsync(connectionString, day + 1, ct);
                var mails = await smtp.WaitForAsync(sent, received, DayTimeout, ct);
                received = sent;
                var titles = set.Listings[day].ToDictionary(p => TextNormalizer.TitleKey(p.Title), p => p.Id);
                var votes = 0;
                foreach (var mail in mails)
                {
                    var reader = readerOf[mail.To.Mailboxes.Single().Address];
                    var digest = DigestText.Parse(mail.TextBody ?? throw new InvalidDataException("a digest without a text part"));
                    var shown = digest.Papers.Select(p => titles.TryGetValue(TextNormalizer.TitleKey(p.Title), out var id)
                        ? id : throw new InvalidDataException($"{set.Days[day]}: the digest shows «{p.Title}», which is not in the listing")).ToArray();
                    _digests[(day, reader.Id)] = new DigestOutcome(shown, digest.Hidden, digest.Papers.Count(p => p.Suggested));
                    _leftForWebCopy[(day, reader.Id)] = digest.LeftForWebCopy;
                    if (day < Simulation.VotingDays)
                    {
                        foreach (var (paper, id) in digest.Papers.Zip(shown).Take(Simulation.VotesPerDay))
                        {
                            var more = reader.Relevant.Contains(set.Papers[id].ArxivId);
                            var link = (more ? paper.MoreLink : paper.LessLink)
                                ?? throw new InvalidDataException($"{set.Days[day]}: no vote link under «{paper.Title}»");
                            await VoteAsync(browsers[reader.Id], link, ct);
                            votes++;
                        }
                    }
                }
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"service: {set.Days[day]}: {mails.Count} digests, {votes} votes, {clock.Elapsed.TotalSeconds:F1}s"));
            }
        }
        finally
        {
            foreach (var browser in browsers.Values)
            {
                browser.Dispose();
            }
        }
    }

    /// <summary>
    /// Waits until the ledger says every reader's delivery of the <paramref name="issues"/>-th issue is decided: fanned
    /// out, and each row sent or skipped (nothing matched). Returns how many digests were sent in all.
    /// </summary>
    private static async Task<int> WaitForDayAsync(string connectionString, int issues, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(DayTimeout);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        while (true)
        {
            await using var command = new NpgsqlCommand(
                """
                select (select count(*) from inbound_messages where status = 'quarantined'),
                       (select count(*) from delivery_generations where fanned_out_at is not null),
                       (select count(*) from deliveries where status in ('pending', 'sending', 'deferred')),
                       (select count(*) from deliveries where status = 'failed'),
                       (select count(*) from deliveries where status = 'sent')
                """, connection);
            await using (var row = await command.ExecuteReaderAsync(ct))
            {
                await row.ReadAsync(ct);
                if (row.GetInt64(0) > 0 || row.GetInt64(3) > 0)
                {
                    throw new InvalidOperationException("a listing was quarantined or a digest failed: see the log above");
                }
                if (row.GetInt64(1) >= issues && row.GetInt64(2) == 0)
                {
                    return (int)row.GetInt64(4);
                }
            }
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"issue {issues} was not fanned out and sent within {DayTimeout}");
            }
        }
    }

    /// <summary>What a reader's click does: the link's page (which records nothing), then its one button.</summary>
    private static async Task VoteAsync(HttpClient browser, string link, CancellationToken ct)
    {
        var page = await browser.GetStringAsync(link, ct);
        var token = AntiforgeryField().Match(page) is { Success: true } m
            ? WebUtility.HtmlDecode(m.Groups[1].Value)
            : throw new InvalidDataException($"no form on the vote page {link}");
        using var response = await browser.PostAsync(link, new FormUrlEncodedContent([new("__RequestVerificationToken", token)]), ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (response.StatusCode != HttpStatusCode.OK || !body.Contains("Noted:", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"POST {link}: {(int)response.StatusCode}, no vote recorded");
        }
    }

    private static Dictionary<string, string?> Settings(string connectionString, string dropFolder, int smtpPort, int webPort) => new()
    {
        ["ConnectionStrings:Newsletter"] = connectionString,
        ["Newsletter:PublicBaseUrl"] = $"http://localhost:{webPort}",
        ["Newsletter:Inbox:AllowedSenders:0"] = "huggingface.co",
        ["Newsletter:Inbox:DropFolder"] = dropFolder,
        ["Newsletter:Inbox:PollInterval"] = "00:00:05",
        ["Newsletter:Mail:From"] = "Lab papers <digest@relevance.example.org>",
        ["Newsletter:Mail:ListId"] = "papers.relevance.example.org",
        ["Newsletter:Smtp:Host"] = "127.0.0.1",
        ["Newsletter:Smtp:Port"] = smtpPort.ToString(CultureInfo.InvariantCulture),
        ["Newsletter:Smtp:Security"] = "None",
        ["Newsletter:Smtp:Connections"] = "2",
        ["Newsletter:Jobs:PollInterval"] = "00:00:00.200",
        ["Newsletter:Admin:Password"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <summary>A free loopback port for the site, known before it starts: the digests' links must name it.</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task ExecuteAsync(string connectionString, string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    /// <summary>The digests the service sent, handed to <see cref="Simulation"/> day by day; a reader with none got nothing.</summary>
    private sealed class RecordedDigests(string reader, IReadOnlyDictionary<(int Day, string Reader), DigestOutcome> digests) : IRelevanceMethod
    {
        public string Name => "service";

        public DigestOutcome Decide(DayContext context) =>
            digests.GetValueOrDefault((context.Day, reader)) ?? new DigestOutcome([], 0, 0);
    }
}
