using System.CommandLine;
using Newsletter.Hosting;
using Newsletter.Papers;
using Newsletter.Subscribers;

namespace Newsletter.Digests;

/// <summary><c>newsletter preview --issue ID --email ADDR [--out FILE]</c>: the digest a subscriber would get, as an .eml.</summary>
public static class PreviewCommand
{
    public static Command Build()
    {
        var issue = new Option<long>("--issue") { Description = "The issue id.", Required = true };
        var email = new Option<string>("--email") { Description = "A subscriber's address.", Required = true };
        var output = new Option<FileInfo?>("--out") { Description = "Write the .eml here instead of standard output." };
        var command = new Command("preview", "Write the digest a subscriber would get for an issue (nothing is sent or recorded).") { issue, email, output };
        command.SetAction(async (result, ct) =>
        {
            using var host = await NewsletterServer.BuildToolHostAsync(ct);
            var services = host.Services;
            var subscriber = await services.GetRequiredService<SubscriberStore>().FindByEmailAsync(result.GetValue(email)!, ct);
            if (subscriber is null)
            {
                await Console.Error.WriteLineAsync($"newsletter preview: no subscriber {result.GetValue(email)}");
                return 2;
            }
            IssueContent content;
            try
            {
                content = await IssueContent.LoadAsync(services.GetRequiredService<PaperStore>(), result.GetValue(issue), ct);
            }
            catch (IssueNotFoundException ex)
            {
                await Console.Error.WriteLineAsync($"newsletter preview: {ex.Message}");
                return 2;
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
        });
        return command;
    }
}
