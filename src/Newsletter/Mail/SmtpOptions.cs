using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using MailKit.Security;

namespace Newsletter.Mail;

/// <summary><c>Newsletter:Smtp</c>: the server digests are handed to. Unused when a pickup folder is configured.</summary>
public sealed class SmtpOptions
{
    public const string Section = "Newsletter:Smtp";

    public string? Host { get; set; }

    [Range(1, 65535)]
    public int Port { get; set; } = 25;

    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.StartTlsWhenAvailable;
    public string? Username { get; set; }
    public string? Password { get; set; }

    /// <summary>
    /// Sign in with <see cref="Username"/> over a connection that is not encrypted (a server on the same host, say).
    /// Off by default: a server that offers no TLS then gets no password, and nothing is sent.
    /// </summary>
    public bool AllowPlaintextAuth { get; set; }

    /// <summary>SMTP connections per worker process, each one send batch at a time.</summary>
    [Range(1, 64)]
    public int Connections { get; set; } = 4;

    /// <summary>Per worker process; 0 means as fast as the server accepts.</summary>
    [Range(0, 100_000)]
    public double MaxMessagesPerSecond { get; set; }

    /// <summary>Generous on purpose: a timeout after the final "." may still mean the server took the message.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00",
        ErrorMessage = "Newsletter:Smtp:Timeout must be between 1 second and 1 hour, written hh:mm:ss (00:01:00; a bare 60 is 60 days).")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>When set, digests are written here as .eml files instead of being sent (development).</summary>
    public string? PickupFolder { get; set; }
}

/// <summary>A server or a pickup folder: one of them must be configured; a password goes over TLS unless allowed otherwise.</summary>
internal sealed class SmtpSettingsValidator : IValidateOptions<SmtpOptions>
{
    public ValidateOptionsResult Validate(string? name, SmtpOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.PickupFolder) && string.IsNullOrWhiteSpace(options.Host))
        {
            return ValidateOptionsResult.Fail($"{SmtpOptions.Section}:Host is required (or set {SmtpOptions.Section}:PickupFolder to write digests to a folder).");
        }
        if (string.IsNullOrWhiteSpace(options.PickupFolder) && !string.IsNullOrEmpty(options.Username)
            && options.Security == SecureSocketOptions.None && !options.AllowPlaintextAuth)
        {
            return ValidateOptionsResult.Fail(
                $"{SmtpOptions.Section}:Security is None but {SmtpOptions.Section}:Username is set: the password would cross the network unencrypted. "
                + $"Use StartTls or SslOnConnect, or set {SmtpOptions.Section}:AllowPlaintextAuth=true.");
        }
        return ValidateOptionsResult.Success;
    }
}
