using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using MimeKit;
using MimeKit.Text;
using Newsletter.Papers;

namespace Newsletter.Inbox;

/// <summary>
/// Reads a "trending papers" listing email (or a person's forward of one) into a <see cref="ParsedListing"/>.
/// Only text/plain and text/html body parts are decoded, each up to <see cref="MaxPartBytes"/>; attachments never are.
/// A message that is not a listing (bounce, auto-reply, anything without papers) gives zero papers, not an exception.
/// </summary>
public sealed partial class TrendingEmailParser(TimeProvider? clock = null)
{
    public const long DefaultMaxMessageBytes = 25L * 1024 * 1024;
    public const int MaxPartBytes = 2 * 1024 * 1024;
    private const int MaxMimeDepth = 16;
    private const int MaxMimeParts = 256;
    private const int MaxEmbeddedDepth = 2;

    private static readonly ParserOptions MimeOptions = new() { MaxMimeDepth = MaxMimeDepth };

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        // Non-ASCII stays readable; HTML-sensitive characters stay escaped.
        Encoder = JavaScriptEncoder.Create(UnicodeRanges.All),
    };

    static TrendingEmailParser() => RegisterEncodings();

    /// <summary>Makes legacy charsets (windows-1252, iso-8859-2, ...) available. Safe to call more than once.</summary>
    public static void RegisterEncodings() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>Loads a message, refusing one over <paramref name="maxMessageBytes"/> before parsing it.</summary>
    /// <exception cref="MessageTooLargeException">The stream holds more than <paramref name="maxMessageBytes"/> bytes.</exception>
    public static MimeMessage Load(Stream stream, long maxMessageBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessageBytes);
        if (stream.CanSeek)
        {
            var size = stream.Length - stream.Position;
            if (size > maxMessageBytes)
            {
                throw new MessageTooLargeException(size, maxMessageBytes);
            }

            return MimeMessage.Load(MimeOptions, stream, cancellationToken);
        }

        using var copy = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (copy.Length + read > maxMessageBytes)
            {
                throw new MessageTooLargeException(null, maxMessageBytes);
            }

            copy.Write(buffer, 0, read);
        }

        copy.Position = 0;
        return MimeMessage.Load(MimeOptions, copy, cancellationToken);
    }

    /// <summary>
    /// Loads a message whose bytes are already in memory. The parts' contents stay slices of <paramref name="raw"/>,
    /// not copies: for a listing that is two ~130 KB large-object allocations fewer per message.
    /// </summary>
    public static MimeMessage LoadPersistent(byte[] raw, CancellationToken cancellationToken = default) =>
        // Not disposed: the message reads its parts from this stream, which holds nothing but the array.
        MimeMessage.Load(MimeOptions, new MemoryStream(raw, writable: false), persistent: true, cancellationToken);

    /// <summary>Parses an .eml file, refusing one over <paramref name="maxMessageBytes"/>.</summary>
    /// <exception cref="MessageTooLargeException">The file is larger than <paramref name="maxMessageBytes"/>.</exception>
    public ParsedListing ParseFile(string path, long maxMessageBytes = DefaultMaxMessageBytes)
    {
        var size = new FileInfo(path).Length;
        if (size > maxMessageBytes)
        {
            throw new MessageTooLargeException(size, maxMessageBytes);
        }

        // Persistent: part contents stay slices of the file instead of copies in memory.
        using var stream = File.OpenRead(path);
        var message = MimeMessage.Load(MimeOptions, stream, persistent: true);
        return Parse(message);
    }

    /// <summary>Parses a loaded message. Never throws for content reasons; a message without papers has none.</summary>
    public ParsedListing Parse(MimeMessage message) => Parse(message, ParseBudget.Unlimited);

    /// <summary>Parses a loaded message within <paramref name="budget"/>; otherwise as <see cref="Parse(MimeMessage)"/>.</summary>
    /// <exception cref="ParseTimeoutException">Parsing took longer than <paramref name="budget"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ParsedListing Parse(MimeMessage message, TimeSpan budget, CancellationToken cancellationToken = default) =>
        Parse(message, ParseBudget.Start(clock ?? TimeProvider.System, budget, cancellationToken));

    private static ParsedListing Parse(MimeMessage message, ParseBudget budget)
    {
        ArgumentNullException.ThrowIfNull(message);
        var from = message.From.Mailboxes.FirstOrDefault()?.Address;
        var subject = message.Subject is null ? null : TextNormalizer.Normalize(message.Subject);
        var messageId = message.MessageId?.Trim().TrimStart('<').TrimEnd('>');
        if (IsNotAListing(message))
        {
            return new ParsedListing(messageId, from, subject, null, []);
        }

        var notes = new List<string>();
        var content = ReadContent(message, 0, budget, notes);
        budget.Check();
        return new ParsedListing(messageId, from, subject, content.IssueDate, content.Papers) { Notes = notes };
    }

    /// <summary>The JSON of the `parse` verb: camelCase, issueDate as yyyy-MM-dd or null.</summary>
    public static string ToJson(ParsedListing listing)
    {
        ArgumentNullException.ThrowIfNull(listing);
        return JsonSerializer.Serialize(listing, JsonOptions);
    }

    private static ListingContent ReadContent(MimeMessage message, int embeddedDepth, ParseBudget budget, List<string> notes)
    {
        DateTimeOffset? sent = message.Headers.Contains(HeaderId.Date) && message.Date != DateTimeOffset.MinValue ? message.Date : null;
        var (plain, html, embedded) = CollectParts(message.Body);
        ListingContent? best = null;
        foreach (var part in plain)
        {
            budget.Check();
            using var text = PartText.Read(part, notes);
            if (LooksBinary(text.Span))
            {
                continue;
            }

            List<TextLine> lines;
            if (part.ContentType.Format is { } format && format.Equals("flowed", StringComparison.OrdinalIgnoreCase))
            {
                var delsp = part.ContentType.Parameters.TryGetValue("delsp", out string? value) && value.Equals("yes", StringComparison.OrdinalIgnoreCase);
                lines = SplitLines(new FlowedToText { DeleteSpace = delsp }.Convert(text.Span.ToString()), budget);
            }
            else
            {
                lines = SplitLines(text.Span, budget);
            }

            var content = ListingReader.Read(lines, decodeEntities: true, sent, budget);
            if (content.Papers.Count > 0)
            {
                return content;
            }

            best ??= content.IssueDate is null ? null : content;
        }

        foreach (var part in html)
        {
            budget.Check();
            using var text = PartText.Read(part, notes);
            if (LooksBinary(text.Span))
            {
                continue;
            }

            var content = ListingReader.Read(HtmlText.ToLines(text.Span.ToString(), budget), decodeEntities: false, sent, budget);
            if (content.Papers.Count > 0)
            {
                return content;
            }

            best ??= content.IssueDate is null ? null : content;
        }

        // A listing forwarded as an attachment (message/rfc822).
        if (embeddedDepth < MaxEmbeddedDepth)
        {
            foreach (var part in embedded)
            {
                if (part.Message is { } inner && !IsNotAListing(inner))
                {
                    var content = ReadContent(inner, embeddedDepth + 1, budget, notes);
                    if (content.Papers.Count > 0)
                    {
                        return content;
                    }
                }
            }
        }

        return best ?? new ListingContent([], null);
    }

    // Text has next to no control characters; random bytes decoded as windows-1252 have about one in eight.
    private static bool LooksBinary(ReadOnlySpan<char> text)
    {
        var controls = 0;
        var rest = text;
        int next;
        while ((next = rest.IndexOfAny(ControlChars)) >= 0)
        {
            controls++;
            rest = rest[(next + 1)..];
        }

        return controls > 16 && controls > text.Length / 200;
    }

    // Controls other than tab, line feed, form feed and carriage return, and the replacement character.
    private static readonly SearchValues<char> ControlChars = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000B\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\uFFFD");

    private static bool IsNotAListing(MimeMessage message)
    {
        if (message.Subject is { } subject && AutoReplySubject().IsMatch(subject))
        {
            return true;
        }

        if (message.Body is MultipartReport || message.Body?.ContentType.IsMimeType("multipart", "report") == true)
        {
            return true;
        }

        var autoSubmitted = message.Headers["Auto-Submitted"];
        if (autoSubmitted is not null && autoSubmitted.Trim().StartsWith("auto-replied", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (message.Headers.Contains("X-Autoreply") || message.Headers.Contains("X-Autorespond")
            || string.Equals(message.Headers["Precedence"]?.Trim(), "auto_reply", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var sender = message.From.Mailboxes.FirstOrDefault()?.LocalPart;
        return sender is not null
            && (sender.Equals("mailer-daemon", StringComparison.OrdinalIgnoreCase) || sender.Equals("postmaster", StringComparison.OrdinalIgnoreCase));
    }

    private static (List<TextPart> Plain, List<TextPart> Html, List<MessagePart> Embedded) CollectParts(MimeEntity? body)
    {
        var plain = new List<TextPart>();
        var html = new List<TextPart>();
        var embedded = new List<MessagePart>();
        var stack = new Stack<(MimeEntity Entity, int Depth)>();
        if (body is not null)
        {
            stack.Push((body, 0));
        }

        var seen = 0;
        while (stack.Count > 0 && seen++ < MaxMimeParts)
        {
            var (entity, depth) = stack.Pop();
            switch (entity)
            {
                case Multipart multipart when depth < MaxMimeDepth:
                    for (var i = multipart.Count - 1; i >= 0; i--)
                    {
                        stack.Push((multipart[i], depth + 1));
                    }

                    break;
                case TextPart text when !text.IsAttachment && text.ContentType.IsMimeType("text", "plain"):
                    plain.Add(text);
                    break;
                case TextPart text when !text.IsAttachment && text.ContentType.IsMimeType("text", "html"):
                    html.Add(text);
                    break;
                case MessagePart message:
                    embedded.Add(message);
                    break;
            }
        }

        return (plain, html, embedded);
    }

    /// <summary>
    /// A text part decoded into a pooled buffer: a listing's text is over 100 KB, so as one string it would be a
    /// large-object allocation per message. Only the lines become strings.
    /// </summary>
    private sealed class PartText : IDisposable
    {
        private char[]? buffer;
        private readonly int length;

        private PartText(char[] buffer, int length)
        {
            this.buffer = buffer;
            this.length = length;
        }

        public ReadOnlySpan<char> Span => buffer.AsSpan(0, length);

        /// <param name="notes">Gets a note when the part is cut, or its declared charset is unknown or the text not valid in it.</param>
        public static PartText Read(MimePart part, List<string> notes)
        {
            if (part.Content is null)
            {
                return new PartText([], 0);
            }

            // The encoded size bounds the decoded one for every transfer encoding: no 2 MB buffer for a 50 KB part.
            var capacity = part.Content.Stream is { CanSeek: true } encoded ? (int)Math.Min(MaxPartBytes, encoded.Length + 1) : MaxPartBytes;
            var bytes = ArrayPool<byte>.Shared.Rent(capacity);
            try
            {
                var length = 0;
                var cut = false;
                using (var stream = part.Content.Open())
                {
                    int read;
                    while (length < capacity && (read = stream.Read(bytes, length, capacity - length)) > 0)
                    {
                        length += read;
                    }

                    cut = length == capacity && stream.ReadByte() >= 0;
                }

                if (cut)
                {
                    // A cut part ends at its last whole line, never inside a multi-byte character, and the mail's record says so.
                    if (bytes.AsSpan(0, length).LastIndexOf((byte)'\n') is > 0 and var newline)
                    {
                        length = newline;
                    }

                    notes.Add($"a {part.ContentType.MimeType} part is longer than {MaxPartBytes:N0} bytes: what follows is not read");
                }

                var label = part.ContentType.Charset;
                var declared = ResolveCharset(label);
                var chars = ArrayPool<char>.Shared.Rent(MaxCharCount(length, declared));
                var decoded = Decode(bytes.AsSpan(0, length), declared, chars, out var readAs);
                if (readAs is not null && !string.IsNullOrWhiteSpace(label))
                {
                    var note = declared is null
                        ? $"a {part.ContentType.MimeType} part declares charset \"{Printable(label)}\", which is unknown: read as {readAs}"
                        : $"a {part.ContentType.MimeType} part is not valid {Printable(label)}: read as {readAs}";
                    if (!notes.Contains(note))
                    {
                        notes.Add(note);
                    }
                }

                return new PartText(chars, decoded);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(bytes);
            }
        }

        public void Dispose()
        {
            if (buffer is { Length: > 0 } rented)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
            buffer = null;
        }
    }

    // Enough for any of the decodings Decode may choose: UTF-8, the declared charset, windows-1252.
    private static int MaxCharCount(int byteCount, Encoding? declared) =>
        Math.Max(byteCount + 1, declared?.GetMaxCharCount(byteCount) ?? 0);

    /// <summary>
    /// Decodes with the declared charset (resolved by <see cref="ResolveCharset"/>, null when unknown) when the bytes
    /// are valid in it, else as UTF-8, else as Latin-1 (windows-1252, as browsers read it), into
    /// <paramref name="destination"/> (at least <see cref="MaxCharCount"/> long); returns the number of characters.
    /// Valid UTF-8 wins over a declared us-ascii or Latin-1: such labels on UTF-8 bodies are common, the reverse is not.
    /// </summary>
    /// <param name="readAs">What the text was read as when that was not the declared charset; null when it was.</param>
    private static int Decode(ReadOnlySpan<byte> bytes, Encoding? declared, Span<char> destination, out string? readAs)
    {
        readAs = null;
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            bytes = bytes[3..];
        }

        var westernLabel = declared is null || declared.CodePage is 20127 or 28591 or 1252;
        if (westernLabel && TryDecodeStrict(StrictUtf8, bytes, destination) is { } utf8)
        {
            readAs = declared is null ? "UTF-8" : null;
            return utf8;
        }

        if (declared is not null && TryDecodeStrict(declared, bytes, destination) is { } text)
        {
            return text;
        }

        if (!westernLabel && TryDecodeStrict(StrictUtf8, bytes, destination) is { } fallback)
        {
            readAs = "UTF-8";
            return fallback;
        }

        readAs = "Latin-1 (windows-1252)";
        return Encoding.GetEncoding(1252).GetChars(bytes, destination);
    }

    // A charset label as it can be shown: printable ASCII, at most 40 characters.
    private static string Printable(string label)
    {
        var printable = new string(label.Trim().Where(c => c is >= ' ' and <= '~').Take(40).ToArray());
        return printable.Length < label.Trim().Length ? printable + "…" : printable;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static Encoding? ResolveCharset(string? charset)
    {
        if (string.IsNullOrWhiteSpace(charset))
        {
            return null;
        }

        try
        {
            var encoding = Encoding.GetEncoding(charset.Trim().Trim('"', '\''));
            return Encoding.GetEncoding(encoding.CodePage, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
        }
        catch (ArgumentException)
        {
            return null;
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }

    private static int? TryDecodeStrict(Encoding encoding, ReadOnlySpan<byte> bytes, Span<char> destination)
    {
        try
        {
            return encoding.GetChars(bytes, destination);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    [GeneratedRegex("""^\s*(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response)|out of (?:the )?office|abwesenheitsnotiz|r[ée]ponse automatique)\b""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AutoReplySubject();

    private static List<TextLine> SplitLines(ReadOnlySpan<char> text, ParseBudget budget)
    {
        var lines = new List<TextLine>();
        foreach (var line in text.EnumerateLines())
        {
            budget.Check();
            lines.Add(TextLine.Plain(line.ToString()));
        }

        return lines;
    }
}
