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
        command.SetAction((_, ct) => Verbs.RunAsync(features => features.AddRelevance(), async services =>
        {
            var request = await JsonSerializer.DeserializeAsync<EmbeddingRequest>(Console.OpenStandardInput(), EmbeddingRequest.Json, ct);
            if (request is null)
            {
                return await Verbs.FailAsync(EmbeddingProcess.Verb, "no request on standard input", 2);
            }
            var result = await services.GetRequiredService<RelevanceStore>().EmbedAsync(request, ct);
            using var self = Process.GetCurrentProcess();
            result = result with
            {
                PeakRssMegabytes = Math.Round(self.PeakWorkingSet64 / 1048576.0, 1),
                CpuSeconds = Math.Round(self.TotalProcessorTime.TotalSeconds, 2),
            };
            await Console.Out.WriteLineAsync(JsonSerializer.Serialize(result, EmbeddingRequest.Json));
            return 0;
        }, ct));
        return command;
    }
}
