using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Newsletter.Hosting;

namespace Newsletter.Relevance;

/// <summary><c>newsletter embed</c> (hidden): the process a fan-out starts to embed what it is missing (<see cref="EmbeddingProcess"/>).</summary>
public static class RelevanceCommands
{
    public static Command Embed()
    {
        var command = new Command(EmbeddingProcess.Verb,
            "Embed the papers and keyword lines of a JSON request on standard input, store their vectors, and print what was stored (a fan-out runs it).")
        {
            Hidden = true,
        };
        command.SetAction((_, ct) =>
        {
            var steps = new StartupSteps(TimeProvider.System);
            steps.Mark("verb started");
            // The service that starts this process has migrated the database.
            return Verbs.RunWithoutMigrationAsync(features => features.AddRelevance(), async services =>
            {
                steps.Mark("host built");
                var embedder = services.GetRequiredService<TextEmbedder>();
                // The model loads on a second core while the request and the stored vectors are read.
                var model = Task.Run(() =>
                {
                    embedder.Load();
                    steps.Mark("model loaded");
                }, ct);
                var request = await JsonSerializer.DeserializeAsync<EmbeddingRequest>(Console.OpenStandardInput(), EmbeddingRequest.Json, ct);
                steps.Mark("request read");
                if (request is null)
                {
                    return await Verbs.FailAsync(EmbeddingProcess.Verb, "no request on standard input", 2);
                }
                var result = await services.GetRequiredService<RelevanceStore>().EmbedAsync(request, steps, ct);
                await model;
                services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RelevanceCommands))
                    .LogInformation("Steps from the process's start: {Steps}", steps);
                using var self = Process.GetCurrentProcess();
                result = result with
                {
                    PeakRssMegabytes = Math.Round(self.PeakWorkingSet64 / 1048576.0, 1),
                    CpuSeconds = Math.Round(self.TotalProcessorTime.TotalSeconds, 2),
                };
                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(result, EmbeddingRequest.Json));
                return 0;
            }, ct);
        });
        return command;
    }
}
