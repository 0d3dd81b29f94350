namespace Newsletter.Database;

/// <summary>Enums stored as text columns: the member's name in lower case, the way the SQL checks spell them.</summary>
public static class DbNames
{
    public static string ToDb<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    public static T Parse<T>(string text) where T : struct, Enum =>
        TryParse<T>(text, out var value) ? value : throw new FormatException($"'{text}' is not a {typeof(T).Name}.");

    /// <summary>
    /// One member by its name, in any case; for values read from the database or typed by a person. Numbers and lists
    /// ("active,paused", which <see cref="Enum.TryParse{TEnum}(string?, bool, out TEnum)"/> ORs into another member) are refused.
    /// </summary>
    public static bool TryParse<T>(string? text, out T value) where T : struct, Enum
    {
        var name = Enum.GetNames<T>().FirstOrDefault(n => n.Equals(text?.Trim(), StringComparison.OrdinalIgnoreCase));
        value = name is null ? default : Enum.Parse<T>(name);
        return name is not null;
    }

    /// <summary>As <see cref="TryParse{T}"/>, with null for a missing or empty value (a query's filter, a field left out).</summary>
    public static bool TryParseOptional<T>(string? text, out T? value) where T : struct, Enum
    {
        value = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }
        if (!TryParse(text, out T parsed))
        {
            return false;
        }
        value = parsed;
        return true;
    }

    /// <summary>As <see cref="TryParse{T}"/>, with <paramref name="fallback"/> for a missing or blank value.</summary>
    public static bool TryParseOptional<T>(string? text, T fallback, out T value) where T : struct, Enum
    {
        value = fallback;
        return string.IsNullOrWhiteSpace(text) || TryParse(text, out value);
    }
}
