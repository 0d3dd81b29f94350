namespace Newsletter.Inbox;

/// <summary>
/// A look at a message's raw lines before MimeKit parses it. The parser makes an object for every part and every header
/// it meets, before any limit of ours applies: 20 MB of empty parts or tiny headers held gigabytes. A listing has a few
/// dozen of each, so a message with thousands is refused unread.
/// </summary>
internal static class MimeShape
{
    /// <summary>Lines starting with "--", each a possible part boundary, read at most.</summary>
    public const int MaxBoundaryLines = 5_000;

    /// <summary>
    /// Lines that start a header field in a header block, read at most. MimeKit makes a header of any such line, whatever
    /// its shape ("X-A : b", a name longer than a line, no colon at all), so every line there counts but folded ones.
    /// </summary>
    public const int MaxHeaderLines = 50_000;

    /// <summary>Why the message is not parsed, or null when its shape is within the limits.</summary>
    public static string? Refusal(ReadOnlySpan<byte> raw)
    {
        var boundaries = 0;
        var headerLines = 0;
        // Header blocks: the message's own, each one after a possible boundary, and an attached message's after its part's.
        var inHeaders = true;
        var afterBoundary = false;
        var inContentType = false;
        var hasContentType = false;
        var mayAttachMessage = false;
        var start = 0;
        while (start < raw.Length)
        {
            var line = raw[start..];
            var end = line.IndexOf((byte)'\n');
            line = end < 0 ? line : line[..end];
            start += end < 0 ? line.Length : end + 1;
            if (line is [(byte)'-', (byte)'-', ..])
            {
                boundaries++;
                (inHeaders, afterBoundary, inContentType, hasContentType, mayAttachMessage) = (true, true, false, false, false);
                continue;
            }
            if (!inHeaders)
            {
                continue;
            }
            if (line is [] or [(byte)'\r'])
            {
                // A message/* part's body starts with a header block, and so does a multipart/digest part without a type.
                inHeaders = mayAttachMessage || (afterBoundary && !hasContentType);
                (afterBoundary, inContentType, hasContentType, mayAttachMessage) = (false, false, false, false);
                continue;
            }
            if (line[0] is not ((byte)' ' or (byte)'\t'))
            {
                headerLines++;
                inContentType = IsContentType(line);
                hasContentType |= inContentType;
            }
            mayAttachMessage |= inContentType && MayNameMessage(line);
        }

        return boundaries > MaxBoundaryLines
            ? $"{boundaries:N0} lines start with \"--\" (possible MIME parts); at most {MaxBoundaryLines:N0} are read"
            : headerLines > MaxHeaderLines
                ? $"{headerLines:N0} lines in header blocks; at most {MaxHeaderLines:N0} are read"
                : null;
    }

    private static bool IsContentType(ReadOnlySpan<byte> line)
    {
        var colon = line.IndexOf((byte)':');
        return colon > 0 && System.Text.Ascii.EqualsIgnoreCase(line[..colon].TrimEnd(" \t"u8), "content-type"u8);
    }

    // Loose on purpose: a false match only counts one more block's lines.
    private static bool MayNameMessage(ReadOnlySpan<byte> line) =>
        ContainsIgnoreCase(line, "message"u8) || ContainsIgnoreCase(line, "rfc822"u8);

    private static bool ContainsIgnoreCase(ReadOnlySpan<byte> text, ReadOnlySpan<byte> lowerCase)
    {
        for (var i = 0; i + lowerCase.Length <= text.Length; i++)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(text.Slice(i, lowerCase.Length), lowerCase))
            {
                return true;
            }
        }
        return false;
    }
}
