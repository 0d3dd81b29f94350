using System.Diagnostics;
using System.Globalization;
using System.Text;
using Newsletter.Database;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.Benchmarks.Scenarios;

/// <summary>
/// Subscriber CSV import of <c>rows</c> new addresses into the given (migrated on the fly) database: parse, validate,
/// COPY into a temp table, two set-based statements. Target: 100,000 rows in under 10 s. Baseline: the same rows as
/// one INSERT ... ON CONFLICT per row (batched 1,000 to a round trip), what a naive import would do.
/// </summary>
public static class ImportBenchmark
{
    public static BenchmarkResult Run(string connectionString, int rows = 100_000)
    {
        Migrator.MigrateAsync(connectionString, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).GetAwaiter().GetResult();
        using var db = NpgsqlDataSource.Create(connectionString);
        Truncate(db);
        var csv = new StringBuilder("email,interests,status,format\r\n");
        for (var i = 0; i < rows; i++)
        {
            csv.Append(CultureInfo.InvariantCulture, $"bench{i}@lab.example.org,\"diffusion \"\"low-rank\"\" -medical, n{i % 97}\",,\r\n");
        }
        var importer = new SubscriberCsv(db, TimeProvider.System);
        var clock = Stopwatch.StartNew();
        var result = importer.ImportAsync(new StringReader(csv.ToString()), CancellationToken.None).GetAwaiter().GetResult();
        var seconds = clock.Elapsed.TotalSeconds;
        if (result.Created != rows)
        {
            throw new InvalidOperationException($"imported {result.Created} of {rows} rows; first error: {(result.Errors is [var first, ..] ? first : null)}");
        }

        Truncate(db);
        var baselineRows = Math.Min(rows, 20_000);
        clock.Restart();
        using (var connection = db.OpenConnection())
        {
            for (var start = 0; start < baselineRows; start += 1000)
            {
                using var batch = new NpgsqlBatch(connection);
                for (var i = start; i < Math.Min(baselineRows, start + 1000); i++)
                {
                    var command = new NpgsqlBatchCommand(
                        """
                        insert into subscribers (email, status, interests, format, created_at, updated_at) values (@e, 'active', @i, 'html', now(), now())
                        on conflict (lower(email)) do update set interests = excluded.interests
                        """);
                    command.Parameters.AddWithValue("e", $"bench{i}@lab.example.org");
                    command.Parameters.AddWithValue("i", InterestQuery.Parse($"diffusion \"low-rank\" -medical, n{i % 97}").ToString());
                    batch.BatchCommands.Add(command);
                }
                batch.ExecuteNonQuery();
            }
        }
        var baselineSeconds = clock.Elapsed.TotalSeconds * rows / baselineRows;
        Truncate(db);
        return new BenchmarkResult("import", $"{rows:N0} CSV rows imported", seconds, "s",
            Baseline: "row-by-row upsert, batched (extrapolated)", BaselineValue: baselineSeconds, Ratio: baselineSeconds / seconds,
            Target: "< 10 s", TargetMet: seconds < 10,
            Details: new Dictionary<string, string> { ["rows/s"] = (rows / seconds).ToString("N0", CultureInfo.InvariantCulture) });
    }

    private static void Truncate(NpgsqlDataSource db)
    {
        using var command = db.CreateCommand("truncate subscribers cascade");
        command.ExecuteNonQuery();
    }
}
