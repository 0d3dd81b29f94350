using Microsoft.Extensions.Options;

namespace Newsletter.Inbox;

/// <summary>Rules that span several keys; each failure names the key to fix.</summary>
/// <remarks>The drop folder is read from the configuration, not from <see cref="InboxOptions"/>: reading those would
/// validate them here too, and each of their mistakes would be reported twice.</remarks>
internal sealed class InboxSettingsValidator(IConfiguration configuration) : IValidateOptions<ImapOptions>
{
    public ValidateOptionsResult Validate(string? name, ImapOptions options)
    {
        if (!string.IsNullOrWhiteSpace(configuration.GetSection(InboxOptions.Section)[nameof(InboxOptions.DropFolder)]))
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
        // A bare number is days to the binder: "60" meant as seconds is past what a timer takes.
        if (options.Timeout < TimeSpan.FromSeconds(1) || options.Timeout > TimeSpan.FromHours(1))
        {
            failures.Add($"{ImapOptions.Section}:Timeout must be between 1 second and 1 hour, written hh:mm:ss (00:00:30; a bare 30 is 30 days), not {options.Timeout}.");
        }
        if (options.IdleRestart < TimeSpan.FromSeconds(10) || options.IdleRestart > TimeSpan.FromMinutes(29))
        {
            failures.Add($"{ImapOptions.Section}:IdleRestart must be between 10 seconds and 29 minutes (servers end IDLE at 30), written hh:mm:ss (00:09:00), not {options.IdleRestart}.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

internal sealed class InboxOptionsValidator(IConfiguration configuration) : IValidateOptions<InboxOptions>
{
    private static readonly string[] Lists = [nameof(InboxOptions.AllowedSenders), nameof(InboxOptions.RequireDkimFor), nameof(InboxOptions.TrustedAuthServIds)];

    public ValidateOptionsResult Validate(string? name, InboxOptions options)
    {
        var failures = new List<string>();
        // The binder drops a list given as one value (Newsletter__Inbox__RequireDkimFor=x.org): refused, not silently empty.
        var section = configuration.GetSection(InboxOptions.Section);
        var givenAsOneValue = Lists.Where(list => !string.IsNullOrWhiteSpace(section[list])).ToList();
        foreach (var list in givenAsOneValue)
        {
            var variable = $"{InboxOptions.Section}:{list}".Replace(":", "__", StringComparison.Ordinal);
            failures.Add($"{InboxOptions.Section}:{list} is a list but was given one value ('{section[list]}'), which is ignored: "
                + $"give each item its index ({variable}__0=..., {variable}__1=...; a JSON array in appsettings).");
        }
        if (options.AllowedSenders.Length == 0 && !givenAsOneValue.Contains(nameof(InboxOptions.AllowedSenders)))
        {
            failures.Add($"{InboxOptions.Section}:AllowedSenders must list at least one address or domain; mail from anyone else is quarantined.");
        }
        for (var i = 0; i < options.AllowedSenders.Length; i++)
        {
            if (!Inbox.SenderPolicy.IsValidSenderPattern(options.AllowedSenders[i]))
            {
                failures.Add($"{InboxOptions.Section}:AllowedSenders:{i} is '{options.AllowedSenders[i]}', which is neither an address nor a domain.");
            }
        }
        for (var i = 0; i < options.RequireDkimFor.Length; i++)
        {
            var domain = options.RequireDkimFor[i];
            if (!Inbox.SenderPolicy.IsValidSenderPattern(domain) || domain.Contains('@', StringComparison.Ordinal))
            {
                failures.Add($"{InboxOptions.Section}:RequireDkimFor:{i} is '{domain}', which is not a domain.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
