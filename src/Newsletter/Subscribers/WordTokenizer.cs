using System.Buffers;
using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Newsletter.Subscribers;

/// <summary>A word of a text: where it sits in the original string and its folded form.</summary>
public readonly record struct WordToken(int Start, int Length, string Folded)
{
    public int End => Start + Length;
}

/// <summary>
/// Splits text into words the same way for interests, papers and highlighting: runs of letters and digits;
/// apostrophes inside a word are dropped ("model's" = "models"); everything else (spaces, hyphens, underscores,
/// slashes, punctuation) separates words, so "low-rank" = "low rank" and "gpt-4" = "gpt 4".
/// A word is folded to lowercase without diacritics (NFKD) and then to its singular (<see cref="Fold"/>).
/// </summary>
public static class WordTokenizer
{
    // Plurals the suffix rules get wrong, and singulars they would damage; both sides of each pair fold alike.
    private static readonly FrozenDictionary<string, string> Irregular = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["bias"] = "bias", ["biases"] = "bias",
        ["alias"] = "alias", ["aliases"] = "alias",
        ["atlas"] = "atlas", ["atlases"] = "atlas",
        ["canvas"] = "canvas", ["canvases"] = "canvas",
        ["lens"] = "lens", ["lenses"] = "lens",
        ["gases"] = "gas",
        ["buses"] = "bus",
        ["news"] = "news",
        ["statuses"] = "status",
        ["viruses"] = "virus",
        ["bonuses"] = "bonus",
        ["corpora"] = "corpus",
        ["caches"] = "cache",
        ["niches"] = "niche",
        ["axes"] = "axis",
        ["indices"] = "index",
        ["matrices"] = "matrix",
        ["vertices"] = "vertex",
        ["appendices"] = "appendix",
        ["criteria"] = "criterion",
        ["phenomena"] = "phenomenon",
        ["children"] = "child",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The words of <paramref name="text"/> in order, with their spans in the original string.</summary>
    public static List<WordToken> Tokenize(string? text)
    {
        var tokens = new List<WordToken>();
        Tokenize(text, tokens);
        return tokens;
    }

    /// <summary>Appends the words of <paramref name="text"/> to <paramref name="into"/>.</summary>
    public static void Tokenize(ReadOnlySpan<char> text, List<WordToken> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        var i = 0;
        while (i < text.Length)
        {
            if (WordCharLength(text, i) == 0)
            {
                i++;
                continue;
            }

            var start = i;
            var end = i;
            var plain = true;
            while (i < text.Length)
            {
                var c = text[i];
                if (WordCharLength(text, i) is > 0 and var length)
                {
                    plain &= char.IsAsciiLetterOrDigit(c);
                    end = i += length;
                }
                else if (IsApostrophe(c) && i + 1 < text.Length && WordCharLength(text, i + 1) > 0)
                {
                    plain = false;
                    i++;
                }
                else
                {
                    break;
                }
            }

            var folded = FoldWord(text[start..end], plain);
            if (folded.Length > 0)
            {
                into.Add(new WordToken(start, end - start, folded));
            }
        }
    }

    /// <summary>
    /// Light English plural folding of a lowercase word, applied alike to interests and papers so both forms meet:
    /// models → model, queries → query, classes → class, analyses → analysis, GPUs → gpu.
    /// Short words (under 4 letters), "-ss", "-is" and longer "-us" words stay as they are.
    /// </summary>
    public static string Fold(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        if (Irregular.TryGetValue(word, out var irregular))
        {
            return irregular;
        }

        var n = word.Length;
        if (n < 4 || word[n - 1] != 's')
        {
            return word;
        }

        var before = word[n - 2];
        if (before is 's' or 'i' || (before == 'u' && n >= 5) || !char.IsLetterOrDigit(before))
        {
            return word;
        }

        if (before != 'e')
        {
            return word[..^1];
        }

        if (n >= 5 && word.EndsWith("ies", StringComparison.Ordinal))
        {
            return string.Concat(word.AsSpan(0, n - 3), "y");
        }

        if (word.EndsWith("yses", StringComparison.Ordinal) || word.EndsWith("theses", StringComparison.Ordinal))
        {
            return string.Concat(word.AsSpan(0, n - 2), "is");
        }

        if (word.EndsWith("sses", StringComparison.Ordinal) || word.EndsWith("xes", StringComparison.Ordinal)
            || word.EndsWith("ches", StringComparison.Ordinal) || word.EndsWith("shes", StringComparison.Ordinal))
        {
            return word[..^2];
        }

        return word[..^1];
    }

    private static string FoldWord(ReadOnlySpan<char> raw, bool plain)
    {
        if (plain)
        {
            return Fold(string.Create(raw.Length, raw, static (dest, src) => src.ToLowerInvariant(dest)));
        }

        var decomposed = new string(raw).Normalize(NormalizationForm.FormKD);
        var builder = new StringBuilder(decomposed.Length);
        // By rune, so a letter outside the BMP (𠮷, or 𝐁 where NFKD keeps one) is kept whole; a BMP character is read as before.
        Span<char> lower = stackalloc char[2];
        foreach (var rune in decomposed.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune) && !IsMark(Rune.GetUnicodeCategory(rune)) && !(rune.IsBmp && IsApostrophe((char)rune.Value)))
            {
                builder.Append(lower[..Rune.ToLowerInvariant(rune).EncodeToUtf16(lower)]);
            }
        }

        return Fold(builder.ToString());
    }

    /// <summary>
    /// How many UTF-16 units the word character at <paramref name="i"/> takes: 1, 2 for a letter, digit or mark outside
    /// the BMP (a surrogate pair), 0 when no word character starts there.
    /// </summary>
    private static int WordCharLength(ReadOnlySpan<char> text, int i)
    {
        var c = text[i];
        if (!char.IsHighSurrogate(c))
        {
            return IsWordChar(c) ? 1 : 0;
        }
        return Rune.DecodeFromUtf16(text[i..], out var rune, out var length) == OperationStatus.Done
            && (Rune.IsLetterOrDigit(rune) || IsMark(Rune.GetUnicodeCategory(rune))) ? length : 0;
    }

    private static bool IsWordChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || (c > 127 && (char.IsLetterOrDigit(c) || IsMark(c)) && !IsApostrophe(c));

    private static bool IsApostrophe(char c) => c is '\'' or '\u2019' or '\u02BC';

    private static bool IsMark(char c) => IsMark(CharUnicodeInfo.GetUnicodeCategory(c));

    private static bool IsMark(UnicodeCategory category) =>
        category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;
}
