using System.Globalization;
using System.Text;
using MimeKit;
using Newsletter.Database;

namespace Newsletter.Subscribers;

public static class EmailAddress
{
    /// <summary>A bare, trimmed address that MimeKit accepts and that has a dotted domain name; anything else is refused, an
    /// address literal (<c>a@[10.0.0.7]</c>) too: mail to it would go to whatever host the typist chose.</summary>
    public static string Normalize(string? input)
    {
        var trimmed = input?.Trim() ?? "";
        if (HiddenCharacter(trimmed) is { } hidden)
        {
            throw new ArgumentException(
                $"'{Shorten(trimmed)}' is not an email address: it holds an invisible or unreadable character (U+{hidden.Value:X4}).", nameof(input));
        }
        if (trimmed.Length is 0 or > 254
            || trimmed.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or ',' or ';' or '"')
            || !MailboxAddress.TryParse(trimmed, out var mailbox)
            || mailbox.Address != trimmed
            || mailbox.Domain is not { Length: > 2 } domain || !domain.Contains('.', StringComparison.Ordinal) || domain.EndsWith('.')
            || domain.StartsWith('['))
        {
            throw new ArgumentException($"'{Shorten(trimmed)}' is not an email address.", nameof(input));
        }
        return trimmed;
    }

    /// <summary>
    /// The first character a reader cannot see (a format character: zero-width space, byte-order mark, soft hyphen; a
    /// control character other than white space: a pasted NUL) or that stands for bytes a decoder could not read (U+FFFD);
    /// null when there is none.
    /// </summary>
    public static Rune? HiddenCharacter(string? text)
    {
        foreach (var rune in (text ?? "").EnumerateRunes())
        {
            if (rune == Rune.ReplacementChar || Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format
                || (Rune.IsControl(rune) && !Rune.IsWhiteSpace(rune)))
            {
                return rune;
            }
        }
        return null;
    }

    private static string Shorten(string value) => StoredText.Shortened(value, 80);
}
