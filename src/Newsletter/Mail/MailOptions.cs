using System.ComponentModel.DataAnnotations;
using MimeKit;

namespace Newsletter.Mail;

/// <summary>How outgoing digests are addressed and signed (section <c>Newsletter:Mail</c>).</summary>
public sealed class MailOptions : IValidatableObject
{
    public const string Section = "Newsletter:Mail";

    /// <summary>Sender, e.g. "Newsletter &lt;digest@lab.example.org&gt;"; its domain also names the Message-IDs.</summary>
    [Required]
    [Mailbox]
    public string From { get; set; } = "";

    [Mailbox]
    public string? ReplyTo { get; set; }

    /// <summary>
    /// List-Id (RFC 2919) without angle brackets, e.g. "papers.lab.example.org". Default: the From address's local
    /// part and domain (<see cref="DefaultListId"/>), e.g. "digest.lab.example.org" for digest@lab.example.org.
    /// </summary>
    [RegularExpression(@"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$",
        ErrorMessage = "ListId must look like a domain name, e.g. papers.lab.example.org.")]
    public string ListId { get; set; } = "";

    /// <summary>The List-Id of a list sent from <paramref name="from"/>: its local part made a DNS label, then its domain.</summary>
    public static string DefaultListId(MailboxAddress from)
    {
        ArgumentNullException.ThrowIfNull(from);
        var at = from.Address.LastIndexOf('@');
        var label = new string([.. from.Address[..Math.Max(at, 0)].ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]);
        label = string.Join('-', label.Split('-', StringSplitOptions.RemoveEmptyEntries));
        return $"{(label.Length == 0 ? "newsletter" : label)}.{from.Domain.ToLowerInvariant()}";
    }

    /// <summary>
    /// When set, each digest's envelope sender is <c>bounces+{signed delivery id}@</c> this domain (VERP), so delivery
    /// reports name their delivery; the domain's mail must reach the mailbox the inbox reads (Bounces/ReturnPaths.cs).
    /// </summary>
    [RegularExpression(@"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$",
        ErrorMessage = "BounceDomain must be a domain name, e.g. bounces.lab.example.org.")]
    public string? BounceDomain { get; set; }

    /// <summary>PEM file with the RSA private key; when set, digests are DKIM-signed.</summary>
    public string? DkimPrivateKeyPath { get; set; }

    [RegularExpression(@"^[A-Za-z0-9._-]+$", ErrorMessage = "DkimSelector must be a DNS label, e.g. digest2025.")]
    public string? DkimSelector { get; set; }

    /// <summary>Signing domain (d=); defaults to the domain of <see cref="From"/>.</summary>
    public string? DkimDomain { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(DkimPrivateKeyPath))
        {
            yield break;
        }

        if (string.IsNullOrWhiteSpace(DkimSelector))
        {
            yield return new ValidationResult("DkimSelector is required when DkimPrivateKeyPath is set.", [nameof(DkimSelector)]);
        }

        if (!File.Exists(DkimPrivateKeyPath))
        {
            yield return new ValidationResult($"DKIM key file '{DkimPrivateKeyPath}' does not exist.", [nameof(DkimPrivateKeyPath)]);
        }
        else if (UnusableKey(DkimPrivateKeyPath) is { } problem)
        {
            yield return new ValidationResult($"DKIM key file '{DkimPrivateKeyPath}' cannot be used to sign: {problem}", [nameof(DkimPrivateKeyPath)]);
        }
    }

    /// <summary>Why the file is no private key this process can read (a public key, a passphrase, no permission), or null.</summary>
    private static string? UnusableKey(string path)
    {
        try
        {
            _ = new MimeKit.Cryptography.DkimSigner(path, "example.org", "selector");
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidCastException or ArgumentException)
        {
            return ex.Message;
        }
    }
}

/// <summary>The value is one mailbox ("Name &lt;user@example.org&gt;" or "user@example.org"); empty passes (use [Required]).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class MailboxAttribute : ValidationAttribute
{
    public MailboxAttribute()
        : base("{0} must be one email address, e.g. \"Newsletter <digest@lab.example.org>\".")
    {
    }

    public override bool IsValid(object? value) =>
        value is not string text || text.Length == 0 || MailboxAddress.TryParse(text, out _);
}
