using System.Text;
using Newsletter.Database;
using Npgsql;
using NpgsqlTypes;
using Sylvan.Data.Csv;

namespace Newsletter.Subscribers;

/// <summary>A row the import left out, by its line in the file (a quoted field spanning lines counts every line).</summary>
public sealed record CsvRowError(int Line, string? Email, string Reason);

public sealed record CsvImportResult(int Created, int Updated, IReadOnlyList<CsvRowError> Errors, int ErrorCount)
{
    public int Imported => Created + Updated;
}

/// <summary>The file itself is unusable (no header, wrong columns, broken quoting, not UTF-8): nothing was imported.</summary>
public sealed class CsvImportException(string message) : Exception(message);

/// <summary>
/// Subscribers as CSV (RFC 4180, UTF-8, header <c>email,interests[,status[,format[,frequency,weekday,time_zone,no_repeats]]]</c>),
/// both ways, streaming. A column left out or a field left empty keeps an existing subscriber's value (a new one gets the default).
/// Import validates each row as it reads, COPYs the good ones into a temporary table, then applies them in two
/// set-based statements: existing addresses are updated, new ones inserted. Bad rows are reported, never fatal; a file
/// that stops being CSV or UTF-8 part-way is refused whole, its one transaction rolled back.
/// Sylvan.Data.Csv does the parsing and writing: RFC 4180 by default, allocation-light, and a DbDataReader both ways,
/// so export streams straight from Npgsql's reader.
/// A cell a spreadsheet would run as a formula (starting with = + - @, tab or CR: an interests line "-medical" is one)
/// is exported behind a single quote, as OWASP advises; import removes that quote again, so a file round-trips. A cell
/// starting with a quote gets one too, or the import would take its own away ('=x@... would come back as =x@...).
/// </summary>
public sealed class SubscriberCsv(NpgsqlDataSource db, TimeProvider clock)
{
    public static readonly string[] Columns = ["email", "interests", "status", "format", "frequency", "weekday", "time_zone", "no_repeats"];

    private const int MaxReportedErrors = 1000;

    public async Task<CsvImportResult> ImportAsync(TextReader text, CancellationToken ct)
    {
        var errors = new List<CsvRowError>();
        var errorCount = 0;
        void Report(int line, string? email, string reason)
        {
            errorCount++;
            if (errors.Count < MaxReportedErrors)
            {
                errors.Add(new CsvRowError(line, email, reason));
            }
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var create = new NpgsqlCommand(
            """
            create temp table subscriber_import (line int not null, email text not null, interests text, status text, format text,
                frequency text, weekday smallint, time_zone text, no_repeats boolean) on commit drop
            """,
            connection, transaction))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        await using (var csv = await OpenAsync(text, ct))
        {
            var statusColumn = csv.FieldCount > 2 ? 2 : -1;
            var formatColumn = csv.FieldCount > 3 ? 3 : -1;
            int ChoiceColumn(int column) => csv.FieldCount > column ? column : -1;
            await using var writer = await connection.BeginBinaryImportAsync(
                "copy subscriber_import (line, email, interests, status, format, frequency, weekday, time_zone, no_repeats) from stdin (format binary)", ct);
            var line = 2;
            while (true)
            {
                var rowLine = line;
                try
                {
                    if (!await csv.ReadAsync(ct))
                    {
                        break;
                    }
                }
                catch (CsvRecordTooLargeException)
                {
                    throw RowTooLong($"line {rowLine}");
                }
                catch (CsvFormatException ex)
                {
                    // Half a file is worse than none: the rows after this one were never read, so the admin fixes it and imports again.
                    throw new CsvImportException(
                        $"line {rowLine}: the file stops being valid CSV here ({ex.Message.TrimEnd('.')}); a quote inside a quoted field is written twice (\"\"). Nothing was imported.");
                }
                line += CountNewLines(csv.GetRawRecordSpan());
                if (csv.GetRawRecordSpan().IndexOf('\uFFFD') is var undecoded and >= 0)
                {
                    throw NotUtf8(rowLine + csv.GetRawRecordSpan()[..undecoded].Count('\n'));
                }
                if (csv.RowFieldCount == 1 && csv.GetFieldSpan(0).IsWhiteSpace())
                {
                    continue; // a blank line
                }
                if (csv.RowFieldCount < 2)
                {
                    Report(rowLine, Field(csv, 0), "a row needs at least email and interests");
                    continue;
                }
                if (csv.RowFieldCount > csv.FieldCount)
                {
                    Report(rowLine, Field(csv, 0), $"the row has {csv.RowFieldCount} fields; the header names {csv.FieldCount}");
                    continue;
                }

                var row = Validate(Field(csv, 0), Field(csv, 1), Field(csv, statusColumn), Field(csv, formatColumn), out var reason);
                var choices = row is null ? null : ValidateChoices(Field(csv, ChoiceColumn(4)), Field(csv, ChoiceColumn(5)), Field(csv, ChoiceColumn(6)),
                    Field(csv, ChoiceColumn(7)), out reason);
                if (row is null || choices is null)
                {
                    Report(rowLine, Field(csv, 0), reason!);
                    continue;
                }
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(rowLine, NpgsqlDbType.Integer, ct);
                await writer.WriteAsync(row.Value.Email, NpgsqlDbType.Text, ct);
                await WriteNullableAsync(writer, row.Value.Interests, ct);
                await WriteNullableAsync(writer, row.Value.Status, ct);
                await WriteNullableAsync(writer, row.Value.Format, ct);
                await WriteNullableAsync(writer, choices.Value.Frequency, ct);
                await (choices.Value.Weekday is { } day ? writer.WriteAsync(day, NpgsqlDbType.Smallint, ct) : writer.WriteNullAsync(ct));
                await WriteNullableAsync(writer, choices.Value.TimeZone, ct);
                await (choices.Value.NoRepeats is { } noRepeats ? writer.WriteAsync(noRepeats, NpgsqlDbType.Boolean, ct) : writer.WriteNullAsync(ct));
            }
            await writer.CompleteAsync(ct);
        }

        // The last row of an address wins; the earlier ones are left out, and said so, or the counts would not add up to the file's rows.
        var superseded = await SupersededRowsAsync(connection, transaction, ct);
        if (superseded.Total > 0)
        {
            errorCount += superseded.Total;
            errors = [.. errors.Concat(superseded.First).OrderBy(e => e.Line).Take(MaxReportedErrors)];
        }

        // The last row of an address wins. An empty status keeps an existing subscriber's status (an unsubscribe
        // stands), except that pending becomes active: the admin vouches for the address. New ones are active.
        await using var apply = new NpgsqlBatch(connection, transaction);
        apply.BatchCommands.Add(new NpgsqlBatchCommand("analyze subscriber_import"));
        apply.BatchCommands.Add(new NpgsqlBatchCommand(
            """
            create temp table subscriber_import_last on commit drop as
            select distinct on (lower(email)) email, interests, status, format, frequency, weekday, time_zone, no_repeats
            from subscriber_import order by lower(email), line desc
            """));
        var update = new NpgsqlBatchCommand(
            """
            update subscribers s set
                interests = coalesce(r.interests, s.interests),
                status = coalesce(r.status, case when s.status = 'pending' then 'active' else s.status end),
                format = coalesce(r.format, s.format),
                frequency = coalesce(r.frequency, s.frequency),
                weekday = coalesce(r.weekday, s.weekday),
                time_zone = case when r.time_zone = '' then null else coalesce(r.time_zone, s.time_zone) end,
                no_repeats = coalesce(r.no_repeats, s.no_repeats),
                weekly_since = case when s.frequency <> 'weekly' and r.frequency = 'weekly' and s.weekly_until is null then @now else s.weekly_since end,
                weekly_until = case when s.frequency = 'weekly' and r.frequency <> 'weekly' then @now
                                    when r.frequency = 'weekly' then null else s.weekly_until end,
                confirmed_at = case when coalesce(r.status, case when s.status = 'pending' then 'active' else s.status end) = 'active'
                               then coalesce(s.confirmed_at, @now) else s.confirmed_at end,
                updated_at = @now
            from subscriber_import_last r where lower(s.email) = lower(r.email)
            """);
        update.Parameters.AddWithValue("now", clock.GetUtcNow());
        apply.BatchCommands.Add(update);
        var insert = new NpgsqlBatchCommand(
            """
            insert into subscribers (email, status, interests, format, created_at, confirmed_at, updated_at, frequency, weekday, time_zone, no_repeats,
                                     weekly_since)
            select r.email, coalesce(r.status, 'active'), coalesce(r.interests, ''), coalesce(r.format, 'html'), @now,
                   case when coalesce(r.status, 'active') = 'active' then @now end, @now,
                   coalesce(r.frequency, 'daily'), coalesce(r.weekday, 1), nullif(r.time_zone, ''), coalesce(r.no_repeats, true),
                   -- A reader imported weekly turned weekly now: their first week starts here, not a week before they joined.
                   case when r.frequency = 'weekly' then @now end
            from subscriber_import_last r
            where not exists (select 1 from subscribers s where lower(s.email) = lower(r.email))
            on conflict (lower(email)) do nothing
            """);
        insert.Parameters.AddWithValue("now", clock.GetUtcNow());
        apply.BatchCommands.Add(insert);
        await apply.ExecuteNonQueryAsync(ct);
        var updated = apply.BatchCommands[2].RecordsAffected;
        var created = apply.BatchCommands[3].RecordsAffected;
        await transaction.CommitAsync(ct);
        return new CsvImportResult(checked((int)created), checked((int)updated), errors, errorCount);
    }

    /// <summary>The imported rows whose address a later row has too: the first <see cref="MaxReportedErrors"/>, and how many.</summary>
    private static async Task<(List<CsvRowError> First, int Total)> SupersededRowsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            """
            select line, email, last_line, count(*) over ()::int from (
                select line, email, max(line) over (partition by lower(email)) as last_line from subscriber_import) r
            where line < last_line order by line limit @max
            """, connection, transaction);
        command.Parameters.AddWithValue("max", MaxReportedErrors);
        var first = new List<CsvRowError>();
        var total = 0;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            first.Add(new CsvRowError(reader.GetInt32(0), reader.GetString(1),
                $"the address is on line {reader.GetInt32(2)} too, and that later line is the one imported"));
            total = reader.GetInt32(3);
        }
        return (first, total);
    }

    /// <summary>
    /// Writes every subscriber (or those of one status), oldest first, in the import's own columns, after a byte-order
    /// mark: without it Excel reads the file in the machine's code page and shows josé@ as josÃ©@.
    /// </summary>
    public async Task ExportAsync(TextWriter text, SubscriberStatus? status, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            $"""
            select {Neutralised("email")} as email, {Neutralised("interests")} as interests, status, format, frequency,
                   (array['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'])[weekday + 1] as weekday,
                   coalesce(time_zone, '') as time_zone, case when no_repeats then 'true' else 'false' end as no_repeats
            from subscribers where @status::text is null or status = @status order by id
            """);
        command.Parameters.Add(new NpgsqlParameter<string?>("status", status is { } s ? SubscriberStore.ToDb(s) : null));
        await using var reader = await command.ExecuteReaderAsync(ct);
        await text.WriteAsync("\uFEFF".AsMemory(), ct);
        await using var csv = CsvDataWriter.Create(text, new CsvDataWriterOptions { NewLine = "\r\n", Delimiter = ',' });
        await csv.WriteAsync(reader, ct);
        await text.FlushAsync(ct);
    }

    public static UTF8Encoding Utf8 { get; } = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// RFC 4180 has no comments, and an address may start with '#'. Sylvan cannot turn them off, only move them: to NUL,
    /// which no line of text starts with, and if one does, the file is refused rather than a row dropped unseen.
    /// </summary>
    private static readonly CsvDataReaderOptions ReaderOptions = new()
    {
        HasHeaders = true,
        Delimiter = ',',
        Quote = '"',
        Comment = '\0',
        // A row longer than the buffer (64 K characters) is read whole, and refused for what it holds, like any other bad row.
        MaxBufferSize = MaxRowChars,
        CommentHandler = (Action<string>)(_ => throw new CsvImportException("a line starts with a NUL character: this is not a text file; save it as CSV UTF-8.")),
    };

    private static async Task<CsvDataReader> OpenAsync(TextReader text, CancellationToken ct)
    {
        CsvDataReader csv;
        try
        {
            csv = await CsvDataReader.CreateAsync(text, ReaderOptions, ct);
        }
        catch (CsvRecordTooLargeException)
        {
            // The reader reads ahead past the header: the row may be any of the first few.
            throw RowTooLong("a row near the start");
        }
        catch (CsvFormatException ex)
        {
            throw new CsvImportException($"line 1: the header is not valid CSV ({ex.Message}).");
        }
        // A byte-order mark still in the text (a StreamReader takes it away, a StringReader of an export does not) is no part of a name.
        var names = Enumerable.Range(0, csv.FieldCount).Select(i => csv.GetName(i).TrimStart('\uFEFF').Trim().ToLowerInvariant()).ToList();
        if (names.Any(n => n.Contains('\uFFFD', StringComparison.Ordinal)))
        {
            await csv.DisposeAsync();
            throw NotUtf8(1);
        }
        if (names.Count < 2 || names.Count > Columns.Length || !names.SequenceEqual(Columns.Take(names.Count)))
        {
            await csv.DisposeAsync();
            throw new CsvImportException(
                $"line 1: the header must be \"email,interests\" optionally followed by, in this order, {string.Join(", ", Columns.Skip(2).Select(c => $"\",{c}\""))}; not \"{string.Join(',', names)}\".");
        }
        return csv;
    }

    /// <summary>The longest row read: far beyond any real one (an address and a line of 500 characters), short of a file that is one open quote.</summary>
    private const int MaxRowChars = 1 << 20;

    private static CsvImportException RowTooLong(string where) =>
        new($"{where}: the row is longer than {MaxRowChars:N0} characters (a quote left open makes the rest of the file one field); nothing was imported.");

    /// <summary>The reader decodes with replacement, so U+FFFD marks bytes that were not UTF-8 (Windows-1252 from Excel, mostly).</summary>
    private static CsvImportException NotUtf8(int line) =>
        new($"line {line} is not UTF-8: save the file as \"CSV UTF-8\" (Excel: Save As, CSV UTF-8) and import it again; nothing was imported.");

    private static (string Email, string? Interests, string? Status, string? Format)? Validate(
        string? email, string? interests, string? status, string? format, out string? reason)
    {
        reason = null;
        string address;
        try
        {
            address = EmailAddress.Normalize(email);
        }
        catch (ArgumentException)
        {
            reason = string.IsNullOrWhiteSpace(email) ? "the email is empty"
                : EmailAddress.HiddenCharacter(email) is { } hidden ? $"the email holds an invisible character (U+{hidden.Value:X4})"
                : "the email is not a valid address";
            return null;
        }
        string? canonical = null;
        try
        {
            if (!string.IsNullOrWhiteSpace(interests))
            {
                canonical = InterestQuery.Parse(interests).ToString();
            }
        }
        catch (InterestSyntaxException ex)
        {
            reason = $"interests: {ex.Message}";
            return null;
        }
        if (!TryParseName<SubscriberStatus>(status, "status", $"not one of {string.Join(", ", Enum.GetNames<SubscriberStatus>().Select(n => n.ToLowerInvariant()))}", out var parsedStatus, ref reason)
            || !TryParseName<DigestFormat>(format, "format", "not html or text", out var parsedFormat, ref reason))
        {
            return null;
        }
        return (address, canonical, parsedStatus is { } st ? SubscriberStore.ToDb(st) : null, parsedFormat is { } fo ? SubscriberStore.ToDb(fo) : null);
    }

    /// <summary>
    /// The optional choice columns: null fields keep what a subscriber has. A time zone written as "server" (or "-") clears
    /// the reader's own and is stored as '' here, null later.
    /// </summary>
    private static (string? Frequency, short? Weekday, string? TimeZone, bool? NoRepeats)? ValidateChoices(
        string? frequency, string? weekday, string? timeZone, string? noRepeats, out string? reason)
    {
        reason = null;
        if (!TryParseName<DigestFrequency>(frequency, "frequency", "not daily or weekly", out var parsedFrequency, ref reason)
            || !TryParseName<DayOfWeek>(weekday, "weekday", "not a day's English name (monday ... sunday)", out var parsedWeekday, ref reason))
        {
            return null;
        }
        string? parsedZone = null;
        if (!string.IsNullOrWhiteSpace(timeZone))
        {
            try
            {
                parsedZone = timeZone.Trim() is "server" or "-" ? "" : ReaderChoices.CheckTimeZone(timeZone);
            }
            catch (ArgumentException ex)
            {
                reason = $"time_zone: {ex.Message}";
                return null;
            }
        }
        bool? parsedNoRepeats = null;
        if (!string.IsNullOrWhiteSpace(noRepeats))
        {
            parsedNoRepeats = noRepeats.Trim().ToLowerInvariant() switch
            {
                "true" or "yes" or "1" => true,
                "false" or "no" or "0" => false,
                _ => null,
            };
            if (parsedNoRepeats is null)
            {
                reason = $"no_repeats '{noRepeats.Trim()}' is not true or false";
                return null;
            }
        }
        return (parsedFrequency is { } fr ? ReaderChoices.ToDb(fr) : null, (short?)parsedWeekday, parsedZone, parsedNoRepeats);
    }

    /// <summary>
    /// An optional column holding one of <typeparamref name="T"/>'s names (any case; numbers and lists are refused): true
    /// with null for an empty field, false with <paramref name="reason"/> for anything else.
    /// </summary>
    private static bool TryParseName<T>(string? field, string column, string expected, out T? value, ref string? reason) where T : struct, Enum
    {
        value = null;
        if (string.IsNullOrWhiteSpace(field))
        {
            return true;
        }
        if (DbNames.TryParse<T>(field, out var parsed))
        {
            value = parsed;
            return true;
        }
        reason = $"{column} '{field.Trim()}' is {expected}";
        return false;
    }

    /// <summary>Characters that make a spreadsheet read a cell as a formula, and the quote that neutralises them.</summary>
    private const string QuotedStarts = "=+-@\t\r'";

    /// <summary>SQL for a column's value with a quote before a formula's first character or a quote.</summary>
    private static string Neutralised(string column) =>
        $"case when left({column}, 1) = any (array['=', '+', '-', '@', E'\\t', E'\\r', '''']) then '''' || {column} else {column} end";

    private static string? Field(CsvDataReader csv, int column)
    {
        var value = column >= 0 && column < csv.RowFieldCount ? csv.GetString(column) : null;
        return value is ['\'', var first, ..] && QuotedStarts.Contains(first, StringComparison.Ordinal) ? value[1..] : value;
    }

    private static int CountNewLines(ReadOnlySpan<char> raw) => raw.Count('\n') is var n && n > 0 ? n : 1;

    private static Task WriteNullableAsync(NpgsqlBinaryImporter writer, string? value, CancellationToken ct) =>
        value is null ? writer.WriteNullAsync(ct) : writer.WriteAsync(value, NpgsqlDbType.Text, ct);
}
