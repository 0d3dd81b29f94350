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
        var spelled = InOneSpelling(trimmed);
        if (trimmed.Length is 0 or > 254
            || trimmed.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or ',' or ';' or '"')
            || !MailboxAddress.TryParse(trimmed, out var mailbox)
            // MimeKit reads a punycode domain as its Unicode spelling: that is the same address.
            || (mailbox.Address != trimmed && mailbox.Address != spelled)
            || mailbox.Domain is not { Length: > 2 } domain || !domain.Contains('.', StringComparison.Ordinal) || domain.EndsWith('.')
            || domain.StartsWith('['))
        {
            throw new ArgumentException($"'{Shorten(trimmed)}' is not an email address.", nameof(input));
        }
        return spelled;
    }

    /// <summary>The address with its domain in <see cref="OneSpelling"/>; the local part is the receiving server's, as typed.
    /// Look-ups use it too, so either spelling finds the reader.</summary>
    public static string InOneSpelling(string address)
    {
        var at = address.LastIndexOf('@');
        return at < 0 ? address : address[..(at + 1)] + OneSpelling(address[(at + 1)..]);
    }

    private static readonly IdnMapping Idn = new();

    /// <summary>
    /// An international domain in one spelling, its Unicode one in lower case (<c>xn--bcher-kva.example</c>,
    /// <c>BÜCHER.example</c> and a decomposed ü all become <c>bücher.example</c>), so one mailbox is one subscriber;
    /// an ASCII domain, or one that is no valid international name, as typed.
    /// </summary>
    private static string OneSpelling(string domain)
    {
        if (Ascii.IsValid(domain) && !domain.StartsWith("xn--", StringComparison.OrdinalIgnoreCase)
            && !domain.Contains(".xn--", StringComparison.OrdinalIgnoreCase))
        {
            return domain;
        }
        try
        {
            return Idn.GetUnicode(Idn.GetAscii(domain));
        }
        catch (ArgumentException)
        {
            return domain;
        }
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
