using System.Globalization;
using Npgsql;

namespace Newsletter.Benchmarks.Support;

/// <summary>Where the services started by tests/bench.sh are (BENCH_* variables), and the sizes a run uses.</summary>
public sealed class BenchEnvironment
{
    public required string PostgresServer { get; init; }
    public required string ImapHost { get; init; }
    public required int ImapPort { get; init; }
    public required string ImapPassword { get; init; }
    public required string SmtpHost { get; init; }
    public required int SmtpPort { get; init; }
    public required string WorkDirectory { get; init; }
    public required string AppDll { get; init; }

    public int Seed { get; init; } = Int("BENCH_SEED", 42);
    public int Subscribers { get; init; } = Int("BENCH_SUBSCRIBERS", 100_000);
    /// <summary>Votes each subscriber of the fan-out cast on earlier papers (0: none, the readers have only their line).</summary>
    public int VotesPerSubscriber { get; init; } = Int("BENCH_VOTES", 0);
    public int SmtpConnections { get; init; } = Int("BENCH_SMTP_CONNECTIONS", 4);
    public int Backlog { get; init; } = Int("BENCH_BACKLOG", 1_000);
    public int InboxListings { get; init; } = Int("BENCH_INBOX_LISTINGS", 5);
    public int InboxSubscribers { get; init; } = Int("BENCH_INBOX_SUBSCRIBERS", 1_000);
    public string WrkDuration { get; init; } = Environment.GetEnvironmentVariable("BENCH_WRK_DURATION") ?? "20s";
    public int WrkConnections { get; init; } = Int("BENCH_WRK_CONNECTIONS", 32);
    public int WrkThreads { get; init; } = Int("BENCH_WRK_THREADS", 2);
    public string ManagePath { get; init; } = Environment.GetEnvironmentVariable("BENCH_MANAGE_PATH") ?? "/manage/{token}";
    public string UnsubscribePath { get; init; } = Environment.GetEnvironmentVariable("BENCH_UNSUBSCRIBE_PATH") ?? "/unsubscribe/{token}";

    public static BenchEnvironment FromVariables()
    {
        var (imapHost, imapPort) = HostPort(Required("BENCH_IMAP"));
        var (smtpHost, smtpPort) = HostPort(Required("BENCH_SMTP"));
        return new BenchEnvironment
        {
            PostgresServer = Required("BENCH_PG"),
            ImapHost = imapHost,
            ImapPort = imapPort,
            ImapPassword = Required("BENCH_IMAP_PASSWORD"),
            SmtpHost = smtpHost,
            SmtpPort = smtpPort,
            WorkDirectory = Required("BENCH_WORK"),
            AppDll = Required("BENCH_APP_DLL"),
        };
    }

    /// <summary>A fresh database for one scenario, so scenarios never see each other's rows.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using (var connection = new NpgsqlConnection(PostgresServer + ";Database=postgres"))
        {
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"drop database if exists {name} with (force)", connection);
            await drop.ExecuteNonQueryAsync();
            await using var create = new NpgsqlCommand($"create database {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return $"{PostgresServer};Database={name};Maximum Pool Size=50";
    }

    /// <summary>
    /// Between two scenarios that use PostgreSQL: the earlier one's databases are dropped and the checkpoint is written
    /// now, not during the next measurement (after the ingestion scenario that is hundreds of MB of dirty pages, which
    /// the web scenario's p99 latency used to pay for).
    /// </summary>
    public async Task SettleAsync()
    {
        await using var connection = new NpgsqlConnection(PostgresServer + ";Database=postgres");
        await connection.OpenAsync();
        var names = new List<string>();
        await using (var list = new NpgsqlCommand("select datname from pg_database where datname like 'bench\\_%'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                names.Add(reader.GetString(0));
            }
        }
        foreach (var name in names)
        {
            await using var drop = new NpgsqlCommand($"drop database if exists \"{name}\" with (force)", connection);
            await drop.ExecuteNonQueryAsync();
        }
        await using var checkpoint = new NpgsqlCommand("checkpoint", connection);
        await checkpoint.ExecuteNonQueryAsync();
    }

    /// <summary>The settings every application instance of a run starts from (as in the integration tests).</summary>
    public Dictionary<string, string?> AppSettings(string connectionString) => new()
    {
        ["ConnectionStrings:Newsletter"] = connectionString,
        ["Newsletter:PublicBaseUrl"] = "https://papers.bench.example",
        ["Newsletter:Inbox:AllowedSenders:0"] = "huggingface.co",
        ["Newsletter:Inbox:DropFolder"] = EmptyDropFolder(),
        ["Newsletter:Mail:From"] = "Lab papers <digest@lab.bench.example>",
        ["Newsletter:Mail:ListId"] = "papers.lab.bench.example",
        ["Newsletter:Smtp:Host"] = SmtpHost,
        ["Newsletter:Smtp:Port"] = SmtpPort.ToString(CultureInfo.InvariantCulture),
        ["Newsletter:Smtp:Security"] = "None",
        ["Newsletter:Smtp:Connections"] = SmtpConnections.ToString(CultureInfo.InvariantCulture),
        ["Newsletter:Jobs:PollInterval"] = "00:00:00.200",
        ["Newsletter:Admin:Password"] = "bench admin password, long enough",
        ["Newsletter:Admin:ApiToken"] = "bench-api-token-0123456789abcdef",
    };

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>Text cut to <paramref name="length"/> characters, an ellipsis marking the cut.</summary>
    public static string Cut(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    public static string Format(double value, string unit = "") =>
        $"{value.ToString("0.###", CultureInfo.InvariantCulture)} {unit}".TrimEnd();

    private string EmptyDropFolder()
    {
        var folder = Path.Combine(WorkDirectory, "drop-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the service scenarios through tests/bench.sh.");

    private static int Int(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), CultureInfo.InvariantCulture, out var value) ? value : fallback;

    private static (string Host, int Port) HostPort(string value)
    {
        var colon = value.LastIndexOf(':');
        return (value[..colon], int.Parse(value[(colon + 1)..], CultureInfo.InvariantCulture));
    }
}
