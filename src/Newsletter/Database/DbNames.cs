namespace Newsletter.Database;

/// <summary>Enums stored as text columns: the member's name in lower case, the way the SQL checks spell them.</summary>
public static class DbNames
{
    public static string ToDb<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    public static T Parse<T>(string text) where T : struct, Enum =>
        TryParse<T>(text, out var value) ? value : throw new FormatException($"'{text}' is not a {typeof(T).Name}.");

    /// <summary>A member by name only (numbers are not names); for values read from the database or typed by a person.</summary>
    public static bool TryParse<T>(string? text, out T value) where T : struct, Enum =>
        Enum.TryParse(text, ignoreCase: true, out value) && Enum.IsDefined(value) && !int.TryParse(text, out _);
}
