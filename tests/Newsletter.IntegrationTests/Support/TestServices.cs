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

    /// <summary>The settings every test starts from: <see cref="TestApp"/>'s.</summary>
    public static Dictionary<string, string?> DefaultSettings(string connectionString) => TestApp.DefaultSettings(connectionString);

    /// <summary>Settings that point the inbox at a Dovecot account instead of the drop folder.</summary>
    public static Dictionary<string, string?> ImapSettings(Infrastructure.DovecotAccount account) => TestApp.ImapSettings(account);
}
