using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Newsletter.IntegrationTests.Operations;

/// <summary>
/// The deploy examples as an operator copies them: their placeholder secrets are refused at start, naming each key,
/// and once filled in they trust the documented reverse proxy, so each client keeps its own limits.
/// </summary>
public sealed partial class DeployExampleTests
{
    private static readonly string[] SecretKeys =
    [
        "ConnectionStrings:Newsletter", "Newsletter:Imap:Password", "Newsletter:Smtp:Password", "Newsletter:Admin:Password", "Newsletter:Admin:ApiToken",
    ];

    [Theory]
    [InlineData("change-me")]
    [InlineData("CHANGE-ME")]
    [InlineData("change-me-admin")]
    public async Task Start_SecretLeftAtAPlaceholder_RefusedNamingTheKey(string placeholder)
    {
        var refused = await Assert.ThrowsAnyAsync<Exception>(async () => await (await TestApp.StartAsync(
            settings: new Dictionary<string, string?> { ["Newsletter:Admin:Password"] = placeholder })).DisposeAsync());

        Assert.Contains(Failures(refused), f => f.Contains("Newsletter:Admin:Password", StringComparison.Ordinal) && f.Contains("placeholder", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("appsettings.Production.example.json")]
    [InlineData("systemd/newsletter.env.example")]
    public async Task Example_AsShipped_RefusedNamingEachPlaceholderSecret(string example)
    {
        var settings = Example(example);

        var refused = await Assert.ThrowsAnyAsync<Exception>(async () => await (await TestApp.BuildHostAsync(settings)).DisposeAsync());

        var failures = Failures(refused);
        Assert.All(SecretKeys, key => Assert.Contains(failures, f => f.Contains(key, StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("appsettings.Production.example.json")]
    [InlineData("systemd/newsletter.env.example")]
    public async Task Example_FilledInBehindItsProxy_EachClientHasItsOwnSubscribeLimit(string example)
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        var settings = Example(example);
        settings["ConnectionStrings:Newsletter"] = database.ConnectionString;
        settings["Newsletter:Imap:Password"] = "an imap password";
        settings["Newsletter:Smtp:Password"] = "an smtp password";
        settings["Newsletter:Admin:Password"] = "an admin password";
        settings["Newsletter:Admin:ApiToken"] = "an-api-token-0123456789abcdef";
        settings["Newsletter:Mail:DkimPrivateKeyPath"] = "";
        settings["Newsletter:Templates:Root"] = "";
        settings["Newsletter:DataProtection:CertificatePath"] = "";
        await using var app = await TestApp.BuildHostAsync(settings);
        await app.StartAsync(Ct);
        using var client = new HttpClient { BaseAddress = TestApp.AddressOf(app) };
        var host = new Uri(settings["Newsletter:PublicBaseUrl"]!).Host;

        var first = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            first.Add(await SubscribeFromAsync(client, host, "203.0.113.10"));
        }
        var second = await SubscribeFromAsync(client, host, "203.0.113.20");

        Assert.Equal(HttpStatusCode.TooManyRequests, first[^1]);
        Assert.Equal(HttpStatusCode.BadRequest, second);
    }

    [Fact]
    public async Task Compose_Secrets_HaveNoDefaultValue()
    {
        var compose = await File.ReadAllTextAsync(Path.Combine(Repository.Root, "deploy", "compose.yaml"), Ct);

        var defaulted = SecretWithDefault().Matches(compose).Select(m => m.Value).ToList();

        Assert.Empty(defaulted);
        Assert.Contains("${NEWSLETTER_ADMIN_PASSWORD:?", compose, StringComparison.Ordinal);
    }

    /// <summary>An example's settings, flattened to configuration keys (":" for the environment file's "__").</summary>
    private static Dictionary<string, string?> Example(string file)
    {
        var path = Path.Combine(Repository.Root, "deploy", file);
        if (file.EndsWith(".json", StringComparison.Ordinal))
        {
            return new ConfigurationBuilder().AddJsonFile(path).Build().AsEnumerable()
                .Where(pair => pair.Value is not null)
                .ToDictionary(pair => pair.Key, pair => pair.Value);
        }
        return File.ReadAllLines(path)
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .ToDictionary(pair => pair[0].Replace("__", ":", StringComparison.Ordinal), pair => (string?)pair[1]);
    }

    /// <summary>A subscribe POST as the proxy forwards it; without a form token the page answers 400 once the limit let it through.</summary>
    private static async Task<HttpStatusCode> SubscribeFromAsync(HttpClient client, string host, string clientAddress)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "subscribe") { Content = new FormUrlEncodedContent([new("Email", "x@example.org")]) };
        request.Headers.Host = host;
        request.Headers.Add("X-Forwarded-For", clientAddress);
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var response = await client.SendAsync(request, Ct);
        return response.StatusCode;
    }

    /// <summary>Every configuration failure an exception from start-up carries, one string each.</summary>
    internal static List<string> Failures(Exception exception) => exception switch
    {
        OptionsValidationException options => [.. options.Failures],
        AggregateException aggregate => [.. aggregate.InnerExceptions.SelectMany(Failures)],
        _ => [exception.GetType().Name + ": " + exception.Message],
    };

    [GeneratedRegex(@"\$\{[A-Z0-9_]*(PASSWORD|TOKEN|SECRET)[A-Z0-9_]*:?-[^}]*\}")]
    private static partial Regex SecretWithDefault();
}
