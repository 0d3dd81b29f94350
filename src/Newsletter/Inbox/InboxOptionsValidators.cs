using Microsoft.Extensions.Options;

namespace Newsletter.Inbox;

/// <summary>Rules that span several keys; each failure names the key to fix.</summary>
internal sealed class InboxSettingsValidator(IOptions<InboxOptions> inbox) : IValidateOptions<ImapOptions>
{
    public ValidateOptionsResult Validate(string? name, ImapOptions options)
    {
        if (!string.IsNullOrWhiteSpace(inbox.Value.DropFolder))
        {
            return ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Host))
        {
            failures.Add($"{ImapOptions.Section}:Host is required (or set {InboxOptions.Section}:DropFolder to read .eml files from a folder).");
        }
        if (options.Port is < 1 or > 65535)
        {
            failures.Add($"{ImapOptions.Section}:Port must be between 1 and 65535, not {options.Port}.");
        }
        if (string.IsNullOrWhiteSpace(options.Username) || options.Password is null)
        {
            failures.Add($"{ImapOptions.Section}:Username and {ImapOptions.Section}:Password are required.");
        }
        if (string.IsNullOrWhiteSpace(options.Folder))
        {
            failures.Add($"{ImapOptions.Section}:Folder must name a folder.");
        }
        if (options.ReportsFolder is { Length: > 0 } reports && (reports == options.ProcessedFolder || reports == options.QuarantineFolder))
        {
            failures.Add($"{ImapOptions.Section}:ReportsFolder must not be the Processed or Quarantine folder: what is read is moved there.");
        }
        if (options.Timeout <= TimeSpan.Zero)
        {
            failures.Add($"{ImapOptions.Section}:Timeout must be positive.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal sealed class InboxOptionsValidator : IValidateOptions<InboxOptions>
{
    public ValidateOptionsResult Validate(string? name, InboxOptions options)
    {
        var failures = new List<string>();
        if (options.AllowedSenders.Length == 0)
        {
            failures.Add($"{InboxOptions.Section}:AllowedSenders must list at least one address or domain; mail from anyone else is quarantined.");
        }
        foreach (var sender in options.AllowedSenders)
        {
            if (!Inbox.SenderPolicy.IsValidSenderPattern(sender))
            {
                failures.Add($"{InboxOptions.Section}:AllowedSenders has '{sender}', which is neither an address nor a domain.");
            }
        }
        foreach (var domain in options.RequireDkimFor)
        {
            if (!Inbox.SenderPolicy.IsValidSenderPattern(domain) || domain.Contains('@', StringComparison.Ordinal))
            {
                failures.Add($"{InboxOptions.Section}:RequireDkimFor has '{domain}', which is not a domain.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
