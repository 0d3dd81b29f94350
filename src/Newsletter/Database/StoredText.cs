namespace Newsletter.Database;

/// <summary>Text from outside (mail headers, server replies) cut to the length its column is meant to hold.</summary>
public static class StoredText
{
    /// <summary>Also replaces U+0000 (an encoded word can carry it) with U+FFFD: PostgreSQL's text cannot hold it, and a row
    /// it refuses would leave the message failing on every poll.</summary>
    public static string? Bounded(string? value, int maxLength)
    {
        if (value is null)
        {
            return null;
        }

        var cut = value.Length <= maxLength ? value
            : char.IsHighSurrogate(value[maxLength - 1]) ? value[..(maxLength - 1)] : value[..maxLength];
        return cut.Replace('\0', '\uFFFD');
    }

    /// <summary>The first <paramref name="maxLength"/> characters and "…" when there are more (as <see cref="Bounded"/> cuts:
    /// never half of a character), for quoting outside text in a message that is stored or shown.</summary>
    public static string Shortened(string value, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Length <= maxLength ? value.Replace('\0', '\uFFFD') : Bounded(value, maxLength) + "…";
    }
}
