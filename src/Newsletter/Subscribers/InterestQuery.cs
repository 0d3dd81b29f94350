using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Newsletter.Subscribers;

/// <summary>
/// A subscriber's interests line, parsed. Web-search syntax: words, "quoted phrases", <c>OR</c> (uppercase) between
/// two terms, <c>-exclusion</c> (a word or a -"phrase"). Space means AND; OR binds tighter, so <c>a b OR c</c> is
/// a AND (b OR c). A paper matches when every AND group matches its title or abstract and no exclusion does.
/// Blank means every paper; only exclusions means every paper but those.
/// </summary>
public sealed class InterestQuery
{
    /// <summary>
    /// Characters as a reader sees them (text elements: a flag, an emoji with its skin tone, a letter with its accent
    /// are one each), as every error position counts them; runes would count a flag or a typed-apart é as two.
    /// </summary>
    public const int MaxLength = 500;

    /// <summary>UTF-16 units, what a line may take in storage however few characters it shows (an accent on an accent…).</summary>
    public const int MaxStoredLength = 4 * MaxLength;
    public const int MaxTerms = 50;

    private readonly string _canonical;

    private InterestQuery(InterestTerm[][] groups, InterestTerm[] exclusions, string canonical)
    {
        Groups = groups;
        Exclusions = exclusions;
        PositiveTerms = groups.Length == 1 ? groups[0] : groups.SelectMany(g => g).ToArray();
        _canonical = canonical;
    }

    /// <summary>The query of a blank line: every paper.</summary>
    public static InterestQuery Empty { get; } = new([], [], "");

    /// <summary>True for a blank line: every paper matches.</summary>
    public bool IsEmpty => Groups.Length == 0 && Exclusions.Length == 0;

    /// <summary>The positive terms as typed (<c>low-rank</c>, <c>segment anything</c>), in order.</summary>
    /// <remarks>Made when asked for: parsed lines are kept by the thousand (the pages' cache), and few callers ask.</remarks>
    public IReadOnlyList<string> Terms => new ReadOnlyCollection<string>(Array.ConvertAll(PositiveTerms, t => t.Original));

    /// <summary>The excluded terms as typed, without the leading "-".</summary>
    public IReadOnlyList<string> ExcludedTerms => new ReadOnlyCollection<string>(Array.ConvertAll(Exclusions, t => t.Original));

    /// <summary>AND groups; each group is a list of OR alternatives.</summary>
    internal InterestTerm[][] Groups { get; }

    internal InterestTerm[] Exclusions { get; }

    /// <summary>All positive terms, group by group; index i is bit i of a match's term mask.</summary>
    internal InterestTerm[] PositiveTerms { get; }

    /// <summary>Reads an interests line; throws <see cref="InterestSyntaxException"/> saying what is wrong and where.</summary>
    public static InterestQuery Parse(string? text)
    {
        var query = ParseCore(text, out var error, out var position);
        return query ?? throw new InterestSyntaxException(error!, position);
    }

    /// <summary>Reads an interests line; on failure returns false with the same message <see cref="Parse"/> throws.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out InterestQuery? query, [NotNullWhen(false)] out string? error)
    {
        query = ParseCore(text, out error, out _);
        return query is not null;
    }

    /// <summary>Canonical form: single spaces, phrases quoted, terms as typed. Parsing it gives the same query.</summary>
    public override string ToString() => _canonical;

    private static InterestQuery? ParseCore(string? text, out string? error, out int position)
    {
        error = null;
        position = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return Empty;
        }

        if (text.Length > MaxLength && TooLong(text, out position) is { } tooLong)
        {
            error = tooLong;
            return null;
        }

        // Nothing anyone types, and PostgreSQL stores no U+0000: a control character is refused where it is.
        if (FirstControl(text) is var control and >= 0)
        {
            position = control;
            error = $"An invisible control character (U+{(int)text[control]:X4}) at character {At(text, control)}: type the line instead of pasting it.";
            return null;
        }

        var lexer = new Lexer(text);
        var groups = new List<List<InterestTerm>>();
        var exclusions = new List<InterestTerm>();
        var canonical = new StringBuilder(text.Length);
        var termCount = 0;
        var previous = ItemKind.None;
        var previousPosition = 0;
        while (lexer.Next(out var item, out error))
        {
            position = item.Position;
            if (item.Kind == ItemKind.Or)
            {
                error = previous switch
                {
                    ItemKind.None => $"OR at character {At(text, item.Position)} has nothing before it; put a term on each side, e.g. sam OR \"segment anything\".",
                    ItemKind.Or => $"OR at character {At(text, item.Position)} follows another OR; put a term between them.",
                    ItemKind.Exclusion => $"OR at character {At(text, item.Position)} follows an exclusion; an exclusion cannot be one side of an OR.",
                    _ => null,
                };
                if (error is not null)
                {
                    return null;
                }
            }
            else
            {
                if (++termCount > MaxTerms)
                {
                    error = $"Too many terms: at most {MaxTerms}; the one at character {At(text, item.Position)} is term {termCount}.";
                    return null;
                }

                var term = item.Term!;
                if (term.Excluded)
                {
                    if (previous == ItemKind.Or)
                    {
                        error = $"The exclusion at character {At(text, item.Position)} follows OR; an exclusion cannot be one side of an OR.";
                        return null;
                    }

                    exclusions.Add(term);
                }
                else if (previous == ItemKind.Or)
                {
                    groups[^1].Add(term);
                }
                else
                {
                    groups.Add([term]);
                }
            }

            if (canonical.Length > 0)
            {
                canonical.Append(' ');
            }

            canonical.Append(item.Kind == ItemKind.Or ? "OR" : item.Term!.Canonical);
            previous = item.Kind;
            previousPosition = item.Position;
        }

        if (error is not null)
        {
            position = lexer.ErrorPosition;
            return null;
        }

        if (previous == ItemKind.Or)
        {
            position = previousPosition;
            error = $"OR at character {At(text, previousPosition)} has nothing after it; put a term on each side.";
            return null;
        }

        return new InterestQuery(groups.Select(g => g.ToArray()).ToArray(), exclusions.ToArray(), canonical.ToString());
    }

    /// <summary>Why the line is too long, with where its first character over the limit starts; null when it is not.</summary>
    private static string? TooLong(string text, out int position)
    {
        var characters = 0;
        int? overCharacters = null, overStorage = null;
        for (var i = 0; i < text.Length; characters++)
        {
            var length = StringInfo.GetNextTextElementLength(text, i);
            overCharacters ??= characters == MaxLength ? i : null;
            overStorage ??= i + length > MaxStoredLength ? i : null;
            i += length;
        }
        position = overCharacters ?? overStorage ?? 0;
        return overCharacters is not null ? $"Interests are limited to {MaxLength} characters; this line has {characters}."
            : overStorage is not null ? $"Interests are limited to {MaxLength} characters, fewer when they are emoji or carry many accents; this line is too long."
            : null;
    }

    /// <summary>Where the first control character other than white space (a tab or a line break separates terms) is, or -1.</summary>
    private static int FirstControl(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsControl(text[i]) && !char.IsWhiteSpace(text[i]))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Where <paramref name="index"/> is, counted from 1 in characters as the reader sees them (an emoji, a flag, a
    /// letter and its accent are one each), not in the UTF-16 units it is stored in.</summary>
    private static int At(string text, int index) => new StringInfo(text[..Math.Clamp(index, 0, text.Length)]).LengthInTextElements + 1;

    private enum ItemKind
    {
        None,
        Term,
        Exclusion,
        Or,
    }

    private readonly record struct Item(ItemKind Kind, int Position, InterestTerm? Term);

    private sealed class Lexer(string text)
    {
        private readonly List<WordToken> _scratch = [];
        private int _index;

        public int ErrorPosition { get; private set; }

        public bool Next(out Item item, out string? error)
        {
            item = default;
            error = null;
            while (_index < text.Length && char.IsWhiteSpace(text[_index]))
            {
                _index++;
            }

            if (_index >= text.Length)
            {
                return false;
            }

            var start = _index;
            var excluded = text[_index] == '-';
            if (excluded)
            {
                _index++;
                if (_index >= text.Length || char.IsWhiteSpace(text[_index]))
                {
                    return Fail(start, $"A lone \"-\" at character {At(text, start)}: put the word or \"phrase\" to exclude right after it, e.g. -medical.", out error);
                }
            }

            // The term itself, after an exclusion's "-": what an error about the term points at.
            var termStart = _index;
            string original;
            bool quoted;
            if (text[_index] == '"')
            {
                var open = _index;
                var close = text.IndexOf('"', open + 1);
                if (close < 0)
                {
                    return Fail(open, $"The quote at character {At(text, open)} is never closed; add the closing \".", out error);
                }

                _index = close + 1;
                original = string.Join(' ', text[(open + 1)..close].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
                quoted = true;
                if (original.Length == 0)
                {
                    return Fail(open, $"The phrase at character {At(text, open)} is empty; put words between the quotes.", out error);
                }
            }
            else
            {
                var wordStart = _index;
                while (_index < text.Length && !char.IsWhiteSpace(text[_index]) && text[_index] != '"')
                {
                    _index++;
                }

                original = text[wordStart.._index];
                quoted = false;
                if (!excluded && original == "OR")
                {
                    item = new Item(ItemKind.Or, start, null);
                    return true;
                }
            }

            _scratch.Clear();
            WordTokenizer.Tokenize(original, _scratch);
            if (_scratch.Count == 0)
            {
                var what = quoted ? $"The phrase \"{original}\"" : $"\"{original}\"";
                return Fail(termStart, $"{what} at character {At(text, termStart)} has no letters or digits to look for.", out error);
            }

            var words = _scratch.Select(t => t.Folded).ToArray();
            var canonical = (excluded ? "-" : "") + (quoted ? $"\"{original}\"" : original);
            var term = new InterestTerm(original, canonical, words, excluded);
            item = new Item(excluded ? ItemKind.Exclusion : ItemKind.Term, start, term);
            return true;
        }

        private bool Fail(int position, string message, out string? error)
        {
            ErrorPosition = position;
            error = message;
            return false;
        }
    }
}

/// <summary>One term of a query: a word or phrase as typed and its folded words, which must appear in sequence.</summary>
internal sealed class InterestTerm(string original, string canonical, string[] words, bool excluded)
{
    public string Original { get; } = original;

    /// <summary>Just this term as a list, shared by every match that hits only this term (made by the first).</summary>
    public IReadOnlyList<string> AsList => field ??= new ReadOnlyCollection<string>([Original]);

    public string Canonical { get; } = canonical;

    public string[] Words { get; } = words;

    /// <summary>Folded words joined by a space: terms with the same key match the same papers.</summary>
    public string Key { get; } = string.Join(' ', words);

    public bool Excluded { get; } = excluded;
}
