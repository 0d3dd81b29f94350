using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Newsletter.Database;
using Newsletter.Hosting;
using Newsletter.Inbox;
using Newsletter.Subscribers;
using Npgsql;

namespace Newsletter.IntegrationTests.Support;

/// <summary>
/// The application as a test gets it: on a database of its own (created here and dropped on dispose, unless the test
/// passes one), pointed at the test's SMTP server and Dovecot account, with the helpers the tests share.
/// <see cref="StartAsync"/> runs the real host on a free loopback port; <see cref="BuildAsync"/> only builds the
/// service graph, so nothing runs in the background.
/// <code>await using var app = await TestApp.StartWithSmtpAsync(); ... await app.Smtp.WaitForMessagesAsync(1);</code>
/// </summary>
internal sealed partial class TestApp : IAsyncDisposable
{
    public const string AdminPassword = "correct horse battery staple";
    public const string AdminApiToken = "test-api-token-0123456789abcdef";

    /// <summary>
    /// Where the links of the mails we send point; <see cref="LinkIn"/> moves them to <see cref="Address"/>. Plain http
    /// like the test clients (an https site's cookies are Secure and would not come back over http), on localhost, the
    /// one host mail links may use without https.
    /// </summary>
    public const string PublicBaseUrl = "http://localhost";

    private readonly TestDatabase? ownDatabase;
    private SmtpCapture? ownSmtp;
    private WebApplication? host;
    private ServiceProvider? provider;
    private Uri? address;

    private TestApp(string connectionString, TestDatabase? ownDatabase, Dictionary<string, string?> settings)
    {
        ConnectionString = connectionString;
        this.ownDatabase = ownDatabase;
        Settings = settings;
    }

    public string ConnectionString { get; }

    /// <summary>The whole configuration the application got; a worker process started with it joins this application.</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; }

    public IServiceProvider Services => (IServiceProvider?)host?.Services ?? provider!;

    /// <summary>Base address of the site, e.g. http://127.0.0.1:43123/.</summary>
    public Uri Address => address ?? throw new InvalidOperationException("This app serves no site: start it with TestApp.StartAsync.");

    public Ledger Ledger => new(ConnectionString);

    /// <summary>The SMTP server this app sends to, when it started one of its own (<see cref="StartWithSmtpAsync"/>).</summary>
    public SmtpCapture Smtp => ownSmtp ?? throw new InvalidOperationException("This app has no SMTP server of its own: start it with TestApp.StartWithSmtpAsync.");

    /// <summary>The real application for <paramref name="role"/>, started on Kestrel.</summary>
    /// <param name="smtp">Digests and confirmation mails go there; without it, to a port where nothing listens.</param>
    /// <param name="imap">The inbox polls this account instead of the drop folder.</param>
    /// <param name="settings">Settings over the defaults, the SMTP server's and the account's.</param>
    /// <param name="connectionString">A database the test owns (a <see cref="PrivatePostgres"/>, one shared by two apps); without it, a new one.</param>
    /// <param name="services">Registrations before the application's own, e.g. a <c>FakeTimeProvider</c> as its clock.</param>
    public static async Task<TestApp> StartAsync(SmtpCapture? smtp = null, DovecotAccount? imap = null, ProcessRole role = ProcessRole.Web,
        IReadOnlyDictionary<string, string?>? settings = null, string? connectionString = null, Action<IServiceCollection>? services = null)
    {
        var app = await CreateAsync(smtp, imap, settings, connectionString);
        try
        {
            var host = await BuildHostAsync(app.Settings, role, services);
            try
            {
                await host.StartAsync(Ct);
            }
            catch
            {
                await host.DisposeAsync();
                throw;
            }
            app.host = host;
            app.address = AddressOf(host);
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>The real host for <paramref name="role"/>, bound to a free loopback port, with exactly these settings; not started.</summary>
    internal static Task<WebApplication> BuildHostAsync(IReadOnlyDictionary<string, string?> settings, ProcessRole role = ProcessRole.Web,
        Action<IServiceCollection>? services = null) =>
        NewsletterServer.BuildAsync([], role, builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            services?.Invoke(builder.Services);
            return Task.CompletedTask;
        }, Ct);

    /// <summary>Base address of a started host, e.g. http://127.0.0.1:43123/.</summary>
    internal static Uri AddressOf(WebApplication host) =>
        new(host.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().TrimEnd('/') + "/");

    /// <summary>
    /// The real application for <paramref name="role"/>, sending digests and confirmation mails to an SMTP capture server
    /// of its own (<see cref="Smtp"/>), which stops with it.
    /// </summary>
    public static async Task<TestApp> StartWithSmtpAsync(ProcessRole role = ProcessRole.All, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var smtp = await SmtpCapture.StartAsync(Ct);
        try
        {
            var app = await StartAsync(smtp, role: role, settings: settings);
            app.ownSmtp = smtp;
            return app;
        }
        catch
        {
            await smtp.DisposeAsync();
            throw;
        }
    }

    /// <summary>The application's service graph, validated and migrated, with no host: no site, no job servers, no poller.</summary>
    /// <param name="replace">Registrations over the application's own, e.g. a clock.</param>
    public static async Task<TestApp> BuildAsync(SmtpCapture? smtp = null, DovecotAccount? imap = null,
        IReadOnlyDictionary<string, string?>? settings = null, string? connectionString = null, Action<IServiceCollection>? replace = null)
    {
        var app = await CreateAsync(smtp, imap, settings, connectionString);
        try
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(app.Settings).Build();
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddSingleton<IConfiguration>(configuration);
            services.AddNewsletter(configuration);
            replace?.Invoke(services);
            app.provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
            app.provider.GetRequiredService<IStartupValidator>().Validate();
            await Migrator.MigrateAsync(app.ConnectionString, NullLogger.Instance, Ct);
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    private static async Task<TestApp> CreateAsync(SmtpCapture? smtp, DovecotAccount? imap,
        IReadOnlyDictionary<string, string?>? settings, string? connectionString)
    {
        var ownDatabase = connectionString is null ? await TestDatabase.CreateAsync(Ct) : null;
        var database = connectionString ?? ownDatabase!.ConnectionString;
        var values = DefaultSettings(database);
        foreach (var layer in new[] { smtp is null ? null : SmtpSettings(smtp), imap is null ? null : ImapSettings(imap), settings })
        {
            foreach (var (key, value) in layer ?? new Dictionary<string, string?>())
            {
                values[key] = value;
            }
        }
        return new TestApp(database, ownDatabase, values);
    }

    /// <summary>A complete, valid configuration with a drop folder and an SMTP host.</summary>
    internal static Dictionary<string, string?> DefaultSettings(string connectionString) => new()
    {
        ["ConnectionStrings:Newsletter"] = connectionString,
        ["Newsletter:PublicBaseUrl"] = PublicBaseUrl,
        ["Newsletter:Inbox:AllowedSenders:0"] = "huggingface.co",
        ["Newsletter:Inbox:DropFolder"] = Path.Combine(Path.GetTempPath(), "unused-drop-" + Guid.NewGuid().ToString("N")),
        ["Newsletter:Mail:From"] = "Lab papers <digest@lab.test.example>",
        ["Newsletter:Mail:ListId"] = "papers.lab.test.example",
        ["Newsletter:Smtp:Host"] = "127.0.0.1",
        ["Newsletter:Delivery:FirstRetryDelay"] = "00:00:01",
        ["Newsletter:Jobs:PollInterval"] = "00:00:00.200",
        ["Newsletter:Jobs:InvisibilityTimeout"] = "00:00:10",
        ["Newsletter:Admin:Password"] = AdminPassword,
        ["Newsletter:Admin:ApiToken"] = AdminApiToken,
    };

    /// <summary>Plain SMTP to the capture server, over two connections as the test machine has two cores.</summary>
    internal static Dictionary<string, string?> SmtpSettings(SmtpCapture smtp) => new()
    {
        ["Newsletter:Smtp:Host"] = smtp.Host,
        ["Newsletter:Smtp:Port"] = smtp.Port.ToString(CultureInfo.InvariantCulture),
        ["Newsletter:Smtp:Security"] = "None",
        ["Newsletter:Smtp:Connections"] = "2",
    };

    /// <summary>The inbox on a Dovecot account instead of the drop folder.</summary>
    internal static Dictionary<string, string?> ImapSettings(DovecotAccount account) => new()
    {
        ["Newsletter:Inbox:DropFolder"] = "",
        ["Newsletter:Imap:Host"] = account.Host,
        ["Newsletter:Imap:Port"] = account.Port.ToString(CultureInfo.InvariantCulture),
        ["Newsletter:Imap:Security"] = "None",
        ["Newsletter:Imap:Username"] = account.UserName,
        ["Newsletter:Imap:Password"] = account.Password,
        ["Newsletter:Imap:Timeout"] = "00:00:15",
    };

    public HttpClient CreateClient(bool allowRedirects = false, bool useCookies = true) =>
        new(new HttpClientHandler { AllowAutoRedirect = allowRedirects, UseCookies = useCookies }) { BaseAddress = Address };

    /// <summary>The sample listing, ingested as if it had just arrived; returns its issue.</summary>
    public async Task<long> IngestSampleAsync()
    {
        var bytes = Samples.SampleEml;
        var outcome = await Services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(bytes, bytes.Length, "test"), Ct);
        Assert.Equal(IngestStatus.Ingested, outcome.Status);
        return outcome.IssueId!.Value;
    }

    /// <summary>A listing of <paramref name="day"/> holding <paramref name="papers"/>, ingested as if it had just arrived; returns its issue.</summary>
    public async Task<long> IngestListingAsync(DateOnly day, IEnumerable<(string Title, string Abstract)> papers)
    {
        var bytes = Samples.ToBytes(Samples.Listing(day, papers));
        var outcome = await Services.GetRequiredService<MessageIngestor>().IngestAsync(new InboundMail(bytes, bytes.Length, "test"), Ct);
        Assert.Equal(IngestStatus.Ingested, outcome.Status);
        return outcome.IssueId!.Value;
    }

    /// <summary>The sample's papers that say one of <paramref name="words"/>, ingested as the sample's day (see <see cref="Samples.SamplePapersSaying"/>).</summary>
    public Task<long> IngestSamplePapersSayingAsync(params string[] words) =>
        IngestListingAsync(new DateOnly(2025, 3, 11), Samples.SamplePapersSaying(words));

    public async Task<Subscriber> AddSubscriberAsync(string email, string interests = "",
        SubscriberStatus status = SubscriberStatus.Active, DigestFormat format = DigestFormat.Html) =>
        (await Services.GetRequiredService<SubscriberStore>().UpsertAsync(email, interests, status, format, Ct)).Subscriber;

    /// <summary>A link of a mail we sent (<paramref name="path"/>, e.g. "confirm/"), moved from the public base URL to this app.</summary>
    public string LinkIn(string text, string path) =>
        MailLink().Matches(text).Select(m => m.Value).FirstOrDefault(l => l.StartsWith($"{PublicBaseUrl}/{path}", StringComparison.Ordinal)) is { } link
            ? new Uri(Address, link[(PublicBaseUrl.Length + 1)..]).ToString()
            : throw new InvalidOperationException($"no {path} link in:\n{text}");

    public async Task<NpgsqlConnection> OpenConnectionAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(Ct);
        return connection;
    }

    public Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters) => Sql.ScalarAsync<T>(ConnectionString, sql, parameters);

    public Task<int> ExecuteAsync(string sql, params (string Name, object Value)[] parameters) => Sql.ExecuteAsync(ConnectionString, sql, parameters);

    public Task<List<T>> ReadAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params (string Name, object Value)[] parameters) =>
        Sql.ReadAsync(ConnectionString, sql, read, parameters);

    public Task<List<string>> RowsAsync(string sql, params (string Name, object Value)[] parameters) => Sql.RowsAsync(ConnectionString, sql, parameters);

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.StopAsync();
            await host.DisposeAsync();
        }
        if (provider is not null)
        {
            await provider.DisposeAsync();
        }
        if (ownDatabase is not null)
        {
            await ownDatabase.DisposeAsync();
        }
        if (ownSmtp is not null)
        {
            await ownSmtp.DisposeAsync();
        }
    }

    [GeneratedRegex(@"https?://[^\s<>""]+")]
    private static partial Regex MailLink();
}
