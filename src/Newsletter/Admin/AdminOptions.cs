using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Newsletter.Admin;

/// <summary><c>Newsletter:Admin</c>: how the one administrator signs in to the pages and calls the API.</summary>
public sealed class AdminOptions
{
    public const string Section = "Newsletter:Admin";

    /// <summary>The admin password in plain text (compared in constant time). Or set <see cref="PasswordHash"/>.</summary>
    public string? Password { get; set; }

    /// <summary>An ASP.NET Core Identity <c>PasswordHasher</c> hash (PBKDF2), as printed by <c>newsletter admin hash-password</c>.</summary>
    public string? PasswordHash { get; set; }

    /// <summary>The bearer token of <c>/admin/api</c>; without one the API answers 401 to everybody.</summary>
    public string? ApiToken { get; set; }

    /// <summary>Login attempts allowed per client address and minute before the login answers 429.</summary>
    public int LoginAttemptsPerMinute { get; set; } = 10;

    /// <summary>
    /// Login attempts allowed per minute from all clients together, so an attacker rotating addresses gets no more
    /// guesses; a browser the admin signed in with before is not counted.
    /// </summary>
    public int LoginAttemptsPerMinuteAllClients { get; set; } = 30;

    /// <summary>Wrong <c>/admin/api</c> bearer tokens allowed per client address and minute before the API answers 429.</summary>
    public int WrongApiTokensPerMinute { get; set; } = 20;

    /// <summary>
    /// The largest CSV the admin page and API import, in MB: 64 is about 900,000 readers, imported in well under a reverse
    /// proxy's usual 60-second timeout, which would cancel the import. The CLI verb reads any size.
    /// </summary>
    public int MaxImportMegabytes { get; set; } = 64;

    public long MaxImportBytes => MaxImportMegabytes * 1024L * 1024;

    /// <summary>What a larger file is told: the limit, and the way to import it anyway.</summary>
    public string ImportTooLarge => $"The file is larger than the import limit of {MaxImportMegabytes} MB ({Section}:MaxImportMegabytes): "
        + "nothing was imported. Import a larger list on the server with `newsletter subscribers import FILE.csv`.";

    /// <summary>How long a sign-in lasts, from signing in: using the admin pages does not extend it.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);
}

internal sealed class AdminOptionsValidator(IHostEnvironment environment) : IValidateOptions<AdminOptions>
{
    public const int MinimumTokenLength = 16;

    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrEmpty(options.Password) && string.IsNullOrEmpty(options.PasswordHash) && !environment.IsDevelopment())
        {
            failures.Add($"{AdminOptions.Section}:Password or {AdminOptions.Section}:PasswordHash is required (generate a hash with `newsletter admin hash-password`).");
        }
        if (!string.IsNullOrEmpty(options.PasswordHash) && !AdminCredentials.IsReadableHash(options.PasswordHash))
        {
            failures.Add($"{AdminOptions.Section}:PasswordHash is not an ASP.NET Core Identity password hash (v3, base64).");
        }
        if (!string.IsNullOrEmpty(options.ApiToken) && options.ApiToken.Length < MinimumTokenLength)
        {
            failures.Add($"{AdminOptions.Section}:ApiToken must be at least {MinimumTokenLength} characters.");
        }
        if (options.LoginAttemptsPerMinute < 1)
        {
            failures.Add($"{AdminOptions.Section}:LoginAttemptsPerMinute must be at least 1.");
        }
        if (options.LoginAttemptsPerMinuteAllClients < 1)
        {
            failures.Add($"{AdminOptions.Section}:LoginAttemptsPerMinuteAllClients must be at least 1.");
        }
        if (options.WrongApiTokensPerMinute < 1)
        {
            failures.Add($"{AdminOptions.Section}:WrongApiTokensPerMinute must be at least 1.");
        }
        if (options.MaxImportMegabytes is < 1 or > 4096)
        {
            failures.Add($"{AdminOptions.Section}:MaxImportMegabytes must be between 1 and 4096.");
        }
        if (options.SessionLifetime <= TimeSpan.Zero)
        {
            failures.Add($"{AdminOptions.Section}:SessionLifetime must be positive.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// Checks the admin password and the API token in constant time. In Development with no password configured it makes
/// one up and logs it once, at Warning, when the server starts.
/// </summary>
public sealed class AdminCredentials
{
    private static readonly PasswordHasher<AdminCredentials> Hasher = new();
    private readonly byte[]? password;
    private readonly string? passwordHash;
    private readonly byte[]? apiTokenHash;

    public AdminCredentials(IOptions<AdminOptions> options, IHostEnvironment environment, ILogger<AdminCredentials> logger)
    {
        var value = options.Value;
        passwordHash = string.IsNullOrEmpty(value.PasswordHash) ? null : value.PasswordHash;
        var plain = value.Password;
        if (string.IsNullOrEmpty(plain) && passwordHash is null && environment.IsDevelopment())
        {
            plain = Convert.ToBase64String(RandomNumberGenerator.GetBytes(12)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            GeneratedPassword = plain;
            logger.LogWarning("No {Section}:Password is configured; the admin password of this Development run is {Password}", AdminOptions.Section, plain);
        }
        password = string.IsNullOrEmpty(plain) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(plain));
        apiTokenHash = string.IsNullOrEmpty(value.ApiToken) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(value.ApiToken));
        // Stored with every session, so derived slowly: a copy of the database must not make guessing the password cheap.
        SessionStamp = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(passwordHash ?? plain ?? ""), SessionStampSalt, 100_000, HashAlgorithmName.SHA256, 32);
    }

    private static readonly byte[] SessionStampSalt = Encoding.ASCII.GetBytes("newsletter admin session stamp v1");

    /// <summary>The password made up for a Development run, or null when one is configured.</summary>
    public string? GeneratedPassword { get; }

    /// <summary>Changes with the configured password (or hash): sessions started under another one no longer admit.</summary>
    public byte[] SessionStamp { get; }

    public bool CheckPassword(string? candidate)
    {
        if (string.IsNullOrEmpty(candidate))
        {
            return false;
        }
        if (passwordHash is not null)
        {
            return Hasher.VerifyHashedPassword(this, passwordHash, candidate) != PasswordVerificationResult.Failed;
        }
        // Hashing both sides first makes the comparison constant-time whatever the lengths.
        return password is not null && CryptographicOperations.FixedTimeEquals(password, SHA256.HashData(Encoding.UTF8.GetBytes(candidate)));
    }

    public bool CheckApiToken(string? candidate) =>
        apiTokenHash is not null && !string.IsNullOrEmpty(candidate)
        && CryptographicOperations.FixedTimeEquals(apiTokenHash, SHA256.HashData(Encoding.UTF8.GetBytes(candidate)));

    public static string HashPassword(string password) => Hasher.HashPassword(null!, password);

    internal static bool IsReadableHash(string hash)
    {
        Span<byte> buffer = stackalloc byte[hash.Length];
        return Convert.TryFromBase64String(hash, buffer, out var written) && written > 13 && buffer[0] == 0x01;
    }
}
