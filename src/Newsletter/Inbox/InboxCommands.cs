using System.CommandLine;
using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Hosting;
using Newsletter.Papers;

namespace Newsletter.Inbox;

/// <summary>The inbox verbs: <c>parse</c> a file, <c>ingest</c> a file as the poller would, <c>poll</c> the mailbox once.</summary>
public static class InboxCommands
{
    public static Command Parse()
    {
        var file = new Argument<FileInfo>("file") { Description = "An .eml file." };
        var command = new Command("parse", "Print the issue and papers read from an email as JSON. Needs no database.") { file };
        command.SetAction(result =>
        {
            var path = result.GetValue(file)!;
            if (!TryReadMessage(path, out var message))
            {
                return 2;
            }
            var listing = new TrendingEmailParser().Parse(message!);
            Console.Out.WriteLine(TrendingEmailParser.ToJson(listing));
            return 0;
        });
        return command;
    }

    public static Command Ingest()
    {
        var file = new Argument<FileInfo>("file") { Description = "An .eml file." };
        var command = new Command("ingest", "Store an email exactly as the inbox poller would.") { file };
        command.SetAction(Verbs.OnExistingFile("ingest", file, (path, ct) => Verbs.RunAsync(features => features.AddPapers().AddInboxIngestion(), async services =>
        {
            var bytes = await File.ReadAllBytesAsync(path.FullName, ct);
            var outcome = await services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(bytes, bytes.Length, "cli", path.DirectoryName), ct);
            Console.Out.WriteLine($"{outcome.Status.ToString().ToLowerInvariant()}: inbound message {outcome.InboundMessageId}"
                + (outcome.IssueId is { } issue ? $", issue {issue}" : "")
                + (outcome.Reason is { } reason ? $" ({reason})" : ""));
            return outcome.Status == IngestStatus.Quarantined ? 1 : 0;
        }, ct)));
        return command;
    }

    public static Command Poll()
    {
        var command = new Command("poll", "Read the configured mailbox once, now.");
        command.SetAction((result, ct) => Verbs.RunAsync(features => features.AddPapers().AddInbox(role: null), async services =>
        {
            var poll = await services.GetRequiredService<InboxPoller>().PollAsync(ct);
            Console.Out.WriteLine($"{poll.Ingested} ingested, {poll.Duplicates} duplicate, {poll.Quarantined} quarantined, {poll.Reports} delivery reports, {poll.AutoReplies} auto-replies, {poll.Failed} failed");
            return poll.Failed > 0 ? 1 : 0;
        }, ct));
        return command;
    }

    private static bool TryReadMessage(FileInfo path, out MimeMessage? message)
    {
        message = null;
        try
        {
            using var stream = path.OpenRead();
            message = MimeMessage.Load(stream);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"newsletter parse: {path.FullName}: {(ex is FileNotFoundException or DirectoryNotFoundException ? "no such file" : ex.Message)}");
            return false;
        }
        catch (FormatException ex)
        {
            Console.Error.WriteLine($"newsletter parse: {path.FullName}: not an email ({ex.Message})");
            return false;
        }
    }
}
