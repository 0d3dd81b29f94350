namespace Newsletter.Database;

/// <summary>Text from outside (mail headers, server replies) cut to the length its column is meant to hold.</summary>
public static class StoredText
{
    public static string? Bounded(string? value, int maxLength) =>
        value is null || value.Length <= maxLength ? value
        : char.IsHighSurrogate(value[maxLength - 1]) ? value[..(maxLength - 1)] : value[..maxLength];
}
