using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Newsletter.Database;
using Newsletter.Hosting;

namespace Newsletter.IntegrationTests.Support;

/// <summary>The application's real service graph over a test database, with settings a test may override.</summary>
internal static class TestServices
{
    public static async Task<ServiceProvider> BuildAsync(
        string connectionString,
        IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? replace = null)
    {
        var values = DefaultSettings(connectionString);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddNewsletter(configuration);
        replace?.Invoke(services);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        provider.GetRequiredService<IStartupValidator>().Validate();
        await Migrator.MigrateAsync(connectionString, NullLogger.Instance);
        return provider;
    }

    /// <summary>Settings every test starts from: a complete, valid configuration with a drop folder and an SMTP host.</summary>
    public static Dictionary<string, string?> DefaultSettings(string connectionString) => new()
        {
            ["ConnectionStrings:Newsletter"] = connectionString,
            // Plain http like the test clients (the cookies of an https site are Secure and would not come back over
            // http), on localhost, the one host mail links may use without https.
            ["Newsletter:PublicBaseUrl"] = "http://localhost",
            ["Newsletter:Inbox:AllowedSenders:0"] = "huggingface.co",
            ["Newsletter:Inbox:DropFolder"] = Path.Combine(Path.GetTempPath(), "unused-drop-" + Guid.NewGuid().ToString("N")),
            ["Newsletter:Mail:From"] = "Lab papers <digest@lab.test.example>",
            ["Newsletter:Mail:ListId"] = "papers.lab.test.example",
            ["Newsletter:Smtp:Host"] = "127.0.0.1",
            ["Newsletter:Delivery:FirstRetryDelay"] = "00:00:01",
            ["Newsletter:Jobs:PollInterval"] = "00:00:00.200",
            ["Newsletter:Jobs:InvisibilityTimeout"] = "00:00:10",
            ["Newsletter:Admin:Password"] = "correct horse battery staple",
            ["Newsletter:Admin:ApiToken"] = "test-api-token-0123456789abcdef",
        };

    /// <summary>Settings that point the inbox at a Dovecot account instead of the drop folder.</summary>
    public static Dictionary<string, string?> ImapSettings(Infrastructure.DovecotAccount account) => new()
    {
        ["Newsletter:Inbox:DropFolder"] = "",
        ["Newsletter:Imap:Host"] = account.Host,
        ["Newsletter:Imap:Port"] = account.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Newsletter:Imap:Security"] = "None",
        ["Newsletter:Imap:Username"] = account.UserName,
        ["Newsletter:Imap:Password"] = account.Password,
        ["Newsletter:Imap:Timeout"] = "00:00:15",
    };
}
