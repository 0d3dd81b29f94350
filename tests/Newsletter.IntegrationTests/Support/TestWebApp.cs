using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Hosting;

namespace Newsletter.IntegrationTests.Support;

/// <summary>The real application (Kestrel on a free loopback port) over a test database.</summary>
internal sealed class TestWebApp : IAsyncDisposable
{
    private TestWebApp(WebApplication app, Uri address)
    {
        App = app;
        Address = address;
    }

    public WebApplication App { get; }

    /// <summary>Base address, e.g. http://127.0.0.1:43123/.</summary>
    public Uri Address { get; }

    public IServiceProvider Services => App.Services;

    public static Task<TestWebApp> StartAsync(string connectionString, IDictionary<string, string?>? settings = null,
        ProcessRole role = ProcessRole.Web, CancellationToken ct = default) =>
        StartAsync(connectionString, _ => { }, settings, role, ct);

    /// <param name="services">Registers services before the application's own, e.g. a <c>FakeTimeProvider</c> as its clock.</param>
    public static async Task<TestWebApp> StartAsync(string connectionString, Action<IServiceCollection> services,
        IDictionary<string, string?>? settings = null, ProcessRole role = ProcessRole.Web, CancellationToken ct = default)
    {
        var values = TestServices.DefaultSettings(connectionString);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }
        var app = await NewsletterServer.BuildAsync([], role, builder =>
        {
            builder.Configuration.AddInMemoryCollection(values);
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            services(builder.Services);
            return Task.CompletedTask;
        }, ct);
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new TestWebApp(app, new Uri(address.TrimEnd('/') + "/"));
    }

    public HttpClient CreateClient(bool allowRedirects = false, bool useCookies = true) =>
        new(new HttpClientHandler { AllowAutoRedirect = allowRedirects, UseCookies = useCookies }) { BaseAddress = Address };

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
