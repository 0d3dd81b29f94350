namespace Newsletter.Papers;
// Placeholder until the parser branch lands.
public static class TextNormalizer
{
    public static string TitleKey(string title) => title.ToLowerInvariant();
}
