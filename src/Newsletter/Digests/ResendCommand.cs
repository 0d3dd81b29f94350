using System.CommandLine;
using Newsletter.Hosting;

namespace Newsletter.Digests;

/// <summary><c>newsletter resend --issue ID (--email ADDR | --failed | --all | --new)</c>: a new delivery generation.</summary>
public static class ResendCommand
{
    public static Command Build()
    {
        var issue = new Option<long>("--issue") { Description = "The issue id.", Required = true };
        var email = new Option<string>("--email") { Description = "Re-send to this one subscriber." };
        var failed = new Option<bool>("--failed") { Description = "Re-send to subscribers whose delivery failed or was deferred." };
        var all = new Option<bool>("--all") { Description = "Re-send to every active subscriber." };
        var joined = new Option<bool>("--new") { Description = "Send to subscribers who joined after the issue went out." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only print how many would receive it." };
        var command = new Command("resend", "Send an issue again as a new delivery generation; earlier rows stay as they are.")
            { issue, email, failed, all, joined, dryRun };
        command.Validators.Add(result =>
        {
            var chosen = (result.GetValue(email) is { Length: > 0 } ? 1 : 0) + (result.GetValue(failed) ? 1 : 0) + (result.GetValue(all) ? 1 : 0)
                + (result.GetValue(joined) ? 1 : 0);
            if (chosen != 1)
            {
                result.AddError("Choose exactly one of --email ADDR, --failed, --all, --new.");
            }
        });
        command.SetAction(async (result, ct) =>
        {
            var scope = result.GetValue(email) is { Length: > 0 } ? ResendScope.One
                : result.GetValue(failed) ? ResendScope.Failed
                : result.GetValue(all) ? ResendScope.All
                : ResendScope.New;
            using var host = await NewsletterServer.BuildToolHostAsync(ct);
            var resender = ActivatorUtilities.CreateInstance<Resender>(host.Services);
            try
            {
                if (result.GetValue(dryRun))
                {
                    var preview = await resender.PreviewAsync(result.GetValue(issue), scope, result.GetValue(email), ct);
                    Console.Out.WriteLine($"{preview.Recipients} subscriber(s) would receive issue {preview.IssueId} as generation {preview.NextGeneration} ({Resender.ToDb(scope)})");
                    return 0;
                }
                var requested = await resender.RequestAsync(result.GetValue(issue), scope, result.GetValue(email), "cli", ct);
                Console.Out.WriteLine($"{requested.Recipients} subscriber(s) will receive issue {requested.IssueId}: generation {requested.Generation} ({Resender.ToDb(scope)}), fan-out queued");
                return 0;
            }
            catch (ResendRefusedException ex)
            {
                await Console.Error.WriteLineAsync($"newsletter resend: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
