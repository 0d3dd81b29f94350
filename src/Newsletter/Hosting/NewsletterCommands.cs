using System.CommandLine;
using Microsoft.Extensions.Options;
using MimeKit;
using Newsletter.Database;
using Newsletter.Inbox;

namespace Newsletter.Hosting;

/// <summary>The command line: the server by default, and the verbs an operator runs by hand.</summary>
public static class NewsletterCommands
{
    public static RootCommand Build()
    {
        var role = new Option<ProcessRole>("--role") { Description = "What this process runs: all, web or worker.", DefaultValueFactory = _ => ProcessRole.All };
        var root = new RootCommand("Newsletter: personal research digests from a trending-papers email.") { role };
        // ASP.NET Core's own switches (--urls, --environment, ...) pass through to the web host.
        root.TreatUnmatchedTokensAsErrors = false;
        root.SetAction((result, ct) => NewsletterServer.RunAsync(result.UnmatchedTokens.ToArray(), result.GetValue(role), ct));

        root.Subcommands.Add(ParseCommand());
        root.Subcommands.Add(IngestCommand());
        root.Subcommands.Add(PollCommand());
        root.Subcommands.Add(MigrateCommand());
        root.Subcommands.Add(Digests.PreviewCommand.Build());
        root.Subcommands.Add(Subscribers.SubscriberCommands.Build());
        root.Subcommands.Add(Digests.ResendCommand.Build());
        root.Subcommands.Add(Admin.AdminCommands.Build());
        return root;
    }

    private static Command ParseCommand()
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

    private static Command IngestCommand()
    {
        var file = new Argument<FileInfo>("file") { Description = "An .eml file." };
        var command = new Command("ingest", "Store an email exactly as the inbox poller would.") { file };
        command.SetAction(async (result, ct) =>
        {
            var path = result.GetValue(file)!;
            if (!path.Exists)
            {
                await Console.Error.WriteLineAsync($"newsletter ingest: {path.FullName}: no such file");
                return 2;
            }
            using var host = await NewsletterServer.BuildToolHostAsync(ct);
            var ingestor = host.Services.GetRequiredService<MessageIngestor>();
            var bytes = await File.ReadAllBytesAsync(path.FullName, ct);
            var outcome = await ingestor.IngestAsync(new InboundMail(bytes, bytes.Length, "cli", path.DirectoryName), ct);
            Console.Out.WriteLine($"{outcome.Status.ToString().ToLowerInvariant()}: inbound message {outcome.InboundMessageId}"
                + (outcome.IssueId is { } issue ? $", issue {issue}" : "")
                + (outcome.Reason is { } reason ? $" ({reason})" : ""));
            return outcome.Status == IngestStatus.Quarantined ? 1 : 0;
        });
        return command;
    }

    private static Command PollCommand()
    {
        var command = new Command("poll", "Read the configured mailbox once, now.");
        command.SetAction(async (result, ct) =>
        {
            using var host = await NewsletterServer.BuildToolHostAsync(ct);
            var poll = await host.Services.GetRequiredService<InboxPoller>().PollAsync(ct);
            Console.Out.WriteLine($"{poll.Ingested} ingested, {poll.Duplicates} duplicate, {poll.Quarantined} quarantined, {poll.Failed} failed");
            return poll.Failed > 0 ? 1 : 0;
        });
        return command;
    }

    private static Command MigrateCommand()
    {
        var command = new Command("migrate", "Create or upgrade the database schema, then exit.");
        command.SetAction(async (result, ct) =>
        {
            using var host = await NewsletterServer.BuildToolHostAsync(ct, migrate: false);
            await Migrator.MigrateAsync(host.Services.GetRequiredService<IConfiguration>().GetConnectionString("Newsletter")!,
                host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Migrations"), ct);
            Console.Out.WriteLine("The database is up to date.");
            return 0;
        });
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
