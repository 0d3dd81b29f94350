using System.Net;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.Net;

namespace Newsletter.IntegrationTests.Infrastructure;

/// <summary>
/// A server of the SmtpServer package on a free loopback port, running until disposed: what <see cref="SmtpCapture"/>
/// and the tests' special-purpose servers are built on.
/// </summary>
internal sealed class LoopbackSmtpServer : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private Task running = Task.CompletedTask;

    private LoopbackSmtpServer()
    {
    }

    public int Port { get; private set; }

    /// <param name="name">The name the server greets with.</param>
    /// <param name="options">More options over the name and the endpoint, e.g. a retry count.</param>
    /// <param name="endpoint">More options of the endpoint, e.g. AUTH without TLS.</param>
    /// <param name="services">The server's stores, filters and authenticators.</param>
    public static async Task<LoopbackSmtpServer> StartAsync(string name, Action<ServiceProvider> services,
        Func<SmtpServerOptionsBuilder, SmtpServerOptionsBuilder>? options = null, Action<EndpointDefinitionBuilder>? endpoint = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        var server = new LoopbackSmtpServer();
        var builder = new SmtpServerOptionsBuilder()
            .ServerName(name)
            .Endpoint(e =>
            {
                e.Endpoint(new IPEndPoint(IPAddress.Loopback, 0));
                endpoint?.Invoke(e);
            });
        var built = (options?.Invoke(builder) ?? builder).Build();

        // Port 0: the OS picks a free port; the listener factory tells us which, once it listens.
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listeners = new EndpointListenerFactory();
        listeners.EndpointStarted += (_, e) => listening.TrySetResult(((IPEndPoint)e.LocalEndPoint).Port);
        var provider = new ServiceProvider();
        provider.Add(listeners);
        services(provider);

        server.running = new SmtpServer.SmtpServer(built, provider).StartAsync(server.stop.Token);
        try
        {
            server.Port = await listening.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
            // The way SmtpServer reports a requested stop.
        }
        stop.Dispose();
    }
}
