using MimeKit;

namespace Newsletter.Subscribers;

public static class EmailAddress
{
    /// <summary>A bare, trimmed address that MimeKit accepts and that has a dotted domain; anything else is refused.</summary>
    public static string Normalize(string? input)
    {
        var trimmed = input?.Trim() ?? "";
        if (trimmed.Length is 0 or > 254
            || trimmed.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or ',' or ';' or '"')
            || !MailboxAddress.TryParse(trimmed, out var mailbox)
            || mailbox.Address != trimmed
            || mailbox.Domain is not { Length: > 2 } domain || !domain.Contains('.', StringComparison.Ordinal) || domain.EndsWith('.'))
        {
            throw new ArgumentException($"'{Shorten(trimmed)}' is not an email address.", nameof(input));
        }
        return trimmed;
    }

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..80] + "…";
}
