using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Newsletter.Papers;

/// <summary>
/// One normalisation of paper text shared by the parser, the store and the matcher.
/// Text stays data: nothing markup-like is stripped or interpreted.
/// </summary>
public static partial class TextNormalizer
{
    /// <summary>
    /// Collapses whitespace (NBSP, tabs, line breaks), removes control and invisible format characters,
    /// makes stray TeX escapes readable (<c>\%</c>, <c>Schr\"odinger</c>, <c>\( x \)</c>, <c>i.e.~x</c>) and
    /// returns NFC. Idempotent. Entities are decoded only when asked: text from an HTML parser is already decoded,
    /// and decoding twice would turn a literal "&amp;lt;" into "&lt;".
    /// </summary>
    public static string Normalize(string? text, bool decodeHtmlEntities = false)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        if (decodeHtmlEntities && text.Contains('&', StringComparison.Ordinal))
        {
            text = WebUtility.HtmlDecode(text);
        }

        text = CapMarkRuns(text);
        if (IsAlreadyNormal(text))
        {
            return text;
        }

        text = ReplaceLoneSurrogates(text);
        if (text.Contains('\\', StringComparison.Ordinal) || text.Contains('~', StringComparison.Ordinal))
        {
            text = CleanTex(text);
        }

        var builder = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (IsInvisible(c))
            {
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(c);
        }

        // Removing invisible characters can join two runs of marks into one: cap again.
        var collapsed = CapMarkRuns(builder.ToString());
        return collapsed.IsNormalized(NormalizationForm.FormC) ? collapsed : collapsed.Normalize(NormalizationForm.FormC);
    }

    /// <summary>
    /// A key under which two spellings of one title compare equal: case, diacritics, compatibility forms
    /// (ligatures, full-width letters), punctuation and spacing are folded.
    /// </summary>
    public static string TitleKey(string? title)
    {
        var normalized = Normalize(title).Normalize(NormalizationForm.FormKD);
        var builder = new StringBuilder(normalized.Length);
        var pendingSpace = false;
        foreach (var c in normalized)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark)
            {
                continue;
            }

            if (!char.IsLetterOrDigit(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(char.ToLowerInvariant(c));
        }

        return builder.ToString();
    }

    // What the slow path changes: whitespace other than the plain space, control and invisible format characters,
    // surrogates (checked for pairing) and the TeX triggers. Built from the same predicates the slow path uses.
    private static readonly SearchValues<char> NeedsWork = SearchValues.Create(
        Enumerable.Range(0, char.MaxValue + 1).Select(i => (char)i)
            .Where(c => (char.IsWhiteSpace(c) && c != ' ') || IsInvisible(c) || char.IsSurrogate(c) || c is '\\' or '~')
            .ToArray());

    // The common case, single-spaced text already in NFC with nothing to remove, is returned as it is: most lines of a
    // listing, non-ASCII ones included (the slow path costs a StringBuilder per line).
    private static bool IsAlreadyNormal(string text) =>
        text[0] != ' '
        && text[^1] != ' '
        && !text.AsSpan().ContainsAny(NeedsWork)
        && !text.Contains("  ", StringComparison.Ordinal)
        && text.IsNormalized(NormalizationForm.FormC);

    /// <summary>
    /// The most combining marks kept after one base character: Unicode's stream-safe text format (UAX #15) allows 30.
    /// Normalization sorts a run of marks by insertion, so a run of a hundred thousand took minutes.
    /// </summary>
    internal const int MaxCombiningMarks = 30;

    // Most text has no character a mark could be (all are U+0300 or above): that is one vectorised search.
    private static string CapMarkRuns(string text)
    {
        var start = text.AsSpan().IndexOfAnyInRange('\u0300', '\uFFFF');
        if (start < 0)
        {
            return text;
        }

        StringBuilder? capped = null;
        var run = 0;
        var i = start;
        while (i < text.Length)
        {
            // By code point: marks outside the BMP (U+1D167, U+1E000, ...) come as surrogate pairs.
            Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var length);
            var keep = true;
            if (!IsCombiningMark(rune))
            {
                run = 0;
            }
            else if (++run > MaxCombiningMarks)
            {
                keep = false;
                capped ??= new StringBuilder(text.Length).Append(text, 0, i);
            }

            if (keep)
            {
                capped?.Append(text, i, length);
            }

            i += length;
        }

        return capped?.ToString() ?? text;
    }

    private static bool IsCombiningMark(Rune rune) =>
        rune.Value >= 0x300
        && Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    // U+FFFE and U+FFFF are not characters: .NET's normalization throws on them.
    private static bool IsInvisible(char c) =>
        char.IsControl(c)
        || c is '\uFFFE' or '\uFFFF'
        || c is '\u00AD' or '\u200B' or '\u2060' or '\uFEFF' or '\u200E' or '\u200F'
        || (c >= '\u202A' && c <= '\u202E')
        || (c >= '\u2066' && c <= '\u2069');

    private static string ReplaceLoneSurrogates(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsSurrogate(text[i]) && !char.IsSurrogatePair(text, i) && !(i > 0 && char.IsSurrogatePair(text, i - 1)))
            {
                var chars = text.ToCharArray();
                for (var j = i; j < chars.Length; j++)
                {
                    if (char.IsSurrogate(chars[j]) && !char.IsSurrogatePair(text, j) && !(j > 0 && char.IsSurrogatePair(text, j - 1)))
                    {
                        chars[j] = '\uFFFD';
                    }
                }

                return new string(chars);
            }
        }

        return text;
    }

    // TeX cleanup outside URLs only: a '~' in https://host/~user must survive.
    private static string CleanTex(string text)
    {
        var builder = new StringBuilder(text.Length);
        var last = 0;
        foreach (Match url in UrlPattern().Matches(text))
        {
            builder.Append(CleanTexSegment(text[last..url.Index]));
            builder.Append(url.Value);
            last = url.Index + url.Length;
        }

        builder.Append(CleanTexSegment(text[last..]));
        return builder.ToString();
    }

    private static string CleanTexSegment(string segment)
    {
        if (segment.Length == 0)
        {
            return segment;
        }

        segment = TexAccent().Replace(segment, m =>
        {
            var mark = m.Groups["accent"].Value[0] switch
            {
                '"' => '\u0308',
                '\'' => '\u0301',
                '`' => '\u0300',
                '^' => '\u0302',
                '~' => '\u0303',
                _ => '\u0327',
            };
            return (m.Groups["letter"].Value + mark).Normalize(NormalizationForm.FormC);
        });
        segment = TexEscapedSymbol().Replace(segment, "${symbol}");
        segment = TexMathDelimiter().Replace(segment, " ");
        return TexTie().Replace(segment, " ");
    }

    [GeneratedRegex("""https?://[^\s<>"]+""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    internal static partial Regex UrlPattern();

    [GeneratedRegex("""\\(?:(?<accent>["'`^~])\{?(?<letter>[A-Za-z])\}?|(?<accent>c)\{(?<letter>[A-Za-z])\})""", RegexOptions.CultureInvariant)]
    private static partial Regex TexAccent();

    [GeneratedRegex("""\\(?<symbol>[%&#$_{}])""", RegexOptions.CultureInvariant)]
    private static partial Regex TexEscapedSymbol();

    [GeneratedRegex("""\\[()\[\]]""", RegexOptions.CultureInvariant)]
    private static partial Regex TexMathDelimiter();

    // A TeX tie joins two words ("i.e.~points", "Sanghavi~[12]"); a free-standing "~30%" means "about" and stays.
    [GeneratedRegex("""(?<=\S)~(?=\S)""", RegexOptions.CultureInvariant)]
    private static partial Regex TexTie();
}
