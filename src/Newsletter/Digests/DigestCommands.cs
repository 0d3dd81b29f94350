using System.CommandLine;
using Newsletter.Database;
using Newsletter.Hosting;
using Newsletter.Mail;
using Newsletter.Papers;
using Newsletter.Subscribers;

namespace Newsletter.Digests;

/// <summary>The digest verbs: <c>preview</c> writes the digest a subscriber would get; <c>resend</c> starts a new delivery generation.</summary>
public static class DigestCommands
{
    /// <summary><c>newsletter preview --issue ID --email ADDR [--out FILE]</c>: the digest a subscriber would get, as an .eml.</summary>
    public static Command Preview()
    {
        var issue = new Option<long>("--issue") { Description = "The issue id.", Required = true };
        var email = new Option<string>("--email") { Description = "A subscriber's address.", Required = true };
        var output = new Option<FileInfo?>("--out") { Description = "Write the .eml here instead of standard output." };
        var command = new Command("preview", "Write the digest a subscriber would get for an issue (nothing is sent or recorded).") { issue, email, output };
        command.SetAction((result, ct) => Verbs.RunAsync(features => features.AddPapers().AddSubscribers().AddMail().AddDigests(role: null), async services =>
        {
            var subscriber = await services.GetRequiredService<SubscriberStore>().FindByEmailAsync(result.GetValue(email)!, ct);
            if (subscriber is null)
            {
                return await Verbs.FailAsync("preview", $"no subscriber {result.GetValue(email)}", 2);
            }
            IssueContent content;
            try
            {
                content = await IssueContent.LoadAsync(services.GetRequiredService<PaperStore>(), result.GetValue(issue), ct);
            }
            catch (IssueNotFoundException ex)
            {
                return await Verbs.FailAsync("preview", ex.Message, 2);
            }

            var query = services.GetRequiredService<InterestQueryCache>().GetOrParse(subscriber.Interests);
            var papers = content.Matcher.Match(query).Select(m => m.PaperId).ToList();
            // Links in a preview carry a placeholder, not a live token: nothing is minted for a message nobody receives.
            var tokens = new DeliveryTokens("preview", "preview", "preview");
            var message = await services.GetRequiredService<DigestBuilder>().BuildAsync(content,
                new DigestRecipient(subscriber.Id, subscriber.Email, subscriber.Interests, 0, papers, tokens, subscriber.Format == DigestFormat.Text), ct);

            if (result.GetValue(output) is { } file)
            {
                await message.WriteToAsync(file.FullName, ct);
                await Console.Error.WriteLineAsync($"{papers.Count} paper(s) for {subscriber.Email}; written to {file.FullName}");
            }
            else
            {
                await message.WriteToAsync(Console.OpenStandardOutput(), ct);
            }
            return 0;
        }, ct));
        return command;
    }

    /// <summary><c>newsletter resend --issue ID (--email ADDR | --failed | --all | --new)</c>: a new delivery generation.</summary>
    public static Command Resend()
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
        command.SetAction((result, ct) => Verbs.RunAsync(features => features.AddSubscribers().AddSingleton<Resender>(), async services =>
        {
            var scope = result.GetValue(email) is { Length: > 0 } ? GenerationScope.One
                : result.GetValue(failed) ? GenerationScope.Failed
                : result.GetValue(all) ? GenerationScope.All
                : GenerationScope.New;
            var resender = services.GetRequiredService<Resender>();
            try
            {
                if (result.GetValue(dryRun))
                {
                    var preview = await resender.PreviewAsync(result.GetValue(issue), scope, result.GetValue(email), ct);
                    Console.Out.WriteLine($"{preview.Recipients} subscriber(s) would receive issue {preview.IssueId} as generation {preview.NextGeneration} ({DbNames.ToDb(scope)})");
                    return 0;
                }
                var requested = await resender.RequestAsync(result.GetValue(issue), scope, result.GetValue(email), "cli", ct);
                Console.Out.WriteLine($"{requested.Recipients} subscriber(s) will receive issue {requested.IssueId}: generation {requested.Generation} ({DbNames.ToDb(scope)}), fan-out queued");
                return 0;
            }
            catch (ResendRefusedException ex)
            {
                // 75 (EX_TEMPFAIL): the issue is still going out and the same command can succeed later.
                return await Verbs.FailAsync("resend", ex.Message, ex.TryLater ? 75 : 1);
            }
        }, ct));
        return command;
    }
}
