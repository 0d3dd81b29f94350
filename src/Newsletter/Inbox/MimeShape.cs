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

    /// <summary>Lines shaped like a header field ("Name: value", in a header block or not), read at most.</summary>
    public const int MaxFieldLines = 50_000;

    /// <summary>Why the message is not parsed, or null when its shape is within the limits.</summary>
    public static string? Refusal(ReadOnlySpan<byte> raw)
    {
        var boundaries = 0;
        var fields = 0;
        var start = 0;
        while (start < raw.Length)
        {
            var line = raw[start..];
            var end = line.IndexOf((byte)'\n');
            line = end < 0 ? line : line[..end];
            if (line is [(byte)'-', (byte)'-', ..])
            {
                boundaries++;
            }
            else if (IsFieldLine(line))
            {
                fields++;
            }
            start += end < 0 ? line.Length : end + 1;
        }

        return boundaries > MaxBoundaryLines
            ? $"{boundaries:N0} lines start with \"--\" (possible MIME parts); at most {MaxBoundaryLines:N0} are read"
            : fields > MaxFieldLines
                ? $"{fields:N0} lines look like header fields; at most {MaxFieldLines:N0} are read"
                : null;
    }

    // RFC 5322: a field name is printable ASCII but the colon, followed by the colon.
    private static bool IsFieldLine(ReadOnlySpan<byte> line)
    {
        var colon = line.IndexOf((byte)':');
        if (colon <= 0 || colon > 76)
        {
            return false;
        }
        foreach (var b in line[..colon])
        {
            if (b is < 33 or > 126)
            {
                return false;
            }
        }
        return true;
    }
}
