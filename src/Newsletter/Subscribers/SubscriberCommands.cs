using System.CommandLine;
using Newsletter.Hosting;

namespace Newsletter.Subscribers;

/// <summary><c>newsletter subscribers add|import|export|list|remove</c>: the subscriber list from a shell.</summary>
public static class SubscriberCommands
{
    public static Command Build()
    {
        var command = new Command("subscribers", "Add, import, export, list and remove subscribers.");
        command.Subcommands.Add(Add());
        command.Subcommands.Add(Import());
        command.Subcommands.Add(Export());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Remove());
        return command;
    }

    private static Command Add()
    {
        var email = new Argument<string>("email") { Description = "The address." };
        var interests = new Option<string>("--interests") { Description = "Keywords in web-search syntax, e.g. 'diffusion \"low-rank\" -medical'." };
        var format = Verbs.OneOf<DigestFormat>("--format", "html (the default) or text.");
        var frequency = Verbs.OneOf<DigestFrequency>("--frequency", "daily or weekly (default: daily, or what they had).");
        var weekday = Verbs.OneOf<DayOfWeek>("--weekday", "The day weekly digests go out, e.g. monday.");
        var timeZone = new Option<string>("--time-zone") { Description = "The reader's time zone for weekly digests, e.g. Europe/Berlin; 'server' for the server's." };
        var noRepeats = new Option<bool?>("--no-repeats") { Description = "true: leave out papers already sent when they trend again (the default); false: send them again." };
        var command = new Command("add", "Add an active subscriber (an admin vouches for the address), or update one already there; one who unsubscribed, bounced or paused stays so.")
        {
            email, interests, format, frequency, weekday, timeZone, noRepeats,
        };
        command.SetAction((result, ct) => RunAsync(async services =>
        {
            // Left out, the interests and format of an address already there stay as they are, as the choices below do.
            var typed = result.GetValue(interests);
            try
            {
                var store = services.GetRequiredService<SubscriberStore>();
                var zone = result.GetValue(timeZone) is { } typedZone ? typedZone.Trim() is "server" or "" ? "" : ReaderChoices.CheckTimeZone(typedZone) : null;
                var (subscriber, created) = await store.AddVouchedAsync(result.GetValue(email)!, typed, result.GetValue(format), ct);
                var current = await store.GetChoicesAsync(subscriber.Id, ct);
                var choices = current with
                {
                    Frequency = result.GetValue(frequency) ?? current.Frequency,
                    Weekday = result.GetValue(weekday) ?? current.Weekday,
                    TimeZone = zone is null ? current.TimeZone : zone.Length == 0 ? null : zone,
                    NoRepeats = result.GetValue(noRepeats) ?? current.NoRepeats,
                };
                await store.UpdateChoicesAsync(subscriber.Id, choices, ct);
                Console.Out.WriteLine($"{(created ? "added" : "updated")}: {subscriber.Email} (id {subscriber.Id}, {SubscriberStore.ToDb(subscriber.Status)}, {SubscriberStore.ToDb(subscriber.Format)}, {Describe(choices)})");
                if (SubscriberStore.KeptStatusNote(subscriber.Status) is { } kept)
                {
                    Console.Out.WriteLine($"  {kept}");
                }
                return 0;
            }
            catch (InterestSyntaxException ex)
            {
                await Console.Error.WriteLineAsync($"newsletter subscribers add: --interests: {ex.Message}");
                await Console.Error.WriteLineAsync($"  {typed}");
                await Console.Error.WriteLineAsync($"  {new string(' ', Math.Clamp(ex.Position, 0, typed?.Length ?? 0))}^ (position {ex.Position + 1})");
                return 2;
            }
            catch (ArgumentException ex)
            {
                return await Verbs.FailAsync("subscribers add", ex.Message, 2);
            }
        }, ct));
        return command;
    }

    private static Command Import()
    {
        var file = new Argument<FileInfo>("file")
        {
            Description = "A UTF-8 CSV file with a header row: email,interests[,status[,format[,frequency,weekday,time_zone,no_repeats]]].",
        };
        var command = new Command("import", "Add or update subscribers from CSV; bad rows are reported by line and left out.") { file };
        command.SetAction(Verbs.OnExistingFile("subscribers import", file, (path, ct) => RunAsync(async services =>
        {
            var csv = ActivatorUtilities.CreateInstance<SubscriberCsv>(services);
            using var reader = new StreamReader(path.FullName, SubscriberCsv.Utf8, detectEncodingFromByteOrderMarks: true);
            try
            {
                var imported = await csv.ImportAsync(reader, ct);
                foreach (var error in imported.Errors)
                {
                    await Console.Error.WriteLineAsync($"{path.Name}:{error.Line}: {error.Reason}{(error.Email is { Length: > 0 } e ? $" ({e})" : "")}");
                }
                if (imported.ErrorCount > imported.Errors.Count)
                {
                    await Console.Error.WriteLineAsync($"... and {imported.ErrorCount - imported.Errors.Count} more bad rows");
                }
                Console.Out.WriteLine($"{imported.Created} added, {imported.Updated} updated, {imported.ErrorCount} left out");
                return imported.ErrorCount > 0 ? 1 : 0;
            }
            catch (CsvImportException ex)
            {
                await Console.Error.WriteLineAsync($"{path.Name}: {ex.Message}");
                return 2;
            }
        }, ct)));
        return command;
    }

    private static Command Export()
    {
        var output = new Option<FileInfo>("--out") { Description = "Write here instead of standard output." };
        var status = Verbs.OneOf<SubscriberStatus>("--status", "Only subscribers with this status.");
        var command = new Command("export", "Write every subscriber as CSV (the import's format).") { output, status };
        command.SetAction((result, ct) => RunAsync(async services =>
        {
            var csv = ActivatorUtilities.CreateInstance<SubscriberCsv>(services);
            if (result.GetValue(output) is { } path)
            {
                await using var writer = new StreamWriter(path.FullName, append: false, SubscriberCsv.Utf8);
                await csv.ExportAsync(writer, result.GetValue(status), ct);
            }
            else
            {
                await using var stdout = new StreamWriter(Console.OpenStandardOutput(), SubscriberCsv.Utf8);
                await csv.ExportAsync(stdout, result.GetValue(status), ct);
            }
            return 0;
        }, ct));
        return command;
    }

    private static Command List()
    {
        var status = Verbs.OneOf<SubscriberStatus>("--status", "Only subscribers with this status.");
        var search = new Option<string>("--search") { Description = "Only addresses or interests containing this text." };
        var command = new Command("list", "Print subscribers, newest first, one per line.") { status, search };
        command.SetAction((result, ct) => RunAsync(async services =>
        {
            var store = services.GetRequiredService<SubscriberStore>();
            const int page = 1000;
            for (var offset = 0; ; offset += page)
            {
                var found = await store.SearchAsync(result.GetValue(search), result.GetValue(status), page, offset, ct);
                foreach (var s in found)
                {
                    Console.Out.WriteLine($"{s.Id}\t{s.Email}\t{SubscriberStore.ToDb(s.Status)}\t{SubscriberStore.ToDb(s.Format)}\t{s.Interests}");
                }
                if (found.Count < page)
                {
                    return 0;
                }
            }
        }, ct));
        return command;
    }

    /// <summary>"daily" or "weekly on monday (Europe/Berlin)", then "no repeats" or "repeats".</summary>
    private static string Describe(ReaderChoices choices) =>
        (choices.Frequency == DigestFrequency.Daily ? "daily" : $"weekly on {ReaderChoices.ToDb(choices.Weekday)} ({choices.TimeZone ?? "server time"})")
        + (choices.NoRepeats ? ", no repeats" : ", repeats");

    private static Command Remove()
    {
        var email = new Argument<string>("email") { Description = "The address." };
        var command = new Command("remove", "Delete a subscriber and all their personal data (deliveries, links, votes, bounces, mail about them).") { email };
        command.SetAction((result, ct) => RunAsync(async services =>
        {
            var store = services.GetRequiredService<SubscriberStore>();
            if (await store.FindByEmailAsync(result.GetValue(email)!, ct) is not { } subscriber)
            {
                return await Verbs.FailAsync("subscribers remove", $"no subscriber has the address {result.GetValue(email)}", 1);
            }
            await store.DeleteAsync(subscriber.Id, ct);
            Console.Out.WriteLine($"removed: {subscriber.Email} (id {subscriber.Id}) and all their data");
            return 0;
        }, ct));
        return command;
    }

    /// <summary>Runs <paramref name="operation"/> on a tool host with the subscriber services.</summary>
    private static Task<int> RunAsync(Func<IServiceProvider, Task<int>> operation, CancellationToken ct) =>
        Verbs.RunAsync(features => features.AddSubscribers(), operation, ct);
}
