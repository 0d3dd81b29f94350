using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.IO;
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
        var listeners = new NoDelayListenerFactory(port => listening.TrySetResult(port));
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

    /// <summary>
    /// Listens as the package's own factory does, with Nagle off on each accepted connection, as mail servers run: the
    /// package writes a reply in pieces, and each piece after the first otherwise waits for the client's delayed ACK,
    /// about 40 ms a message on every connection.
    /// </summary>
    private sealed class NoDelayListenerFactory(Action<int> started) : IEndpointListenerFactory
    {
        public IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
        {
            var listener = new TcpListener((IPEndPoint)endpointDefinition.Endpoint);
            listener.Start();
            started(((IPEndPoint)listener.LocalEndpoint).Port);
            return new Listener(listener);
        }
    }

    private sealed class Listener(TcpListener listener) : IEndpointListener
    {
        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            var client = await listener.AcceptTcpClientAsync(cancellationToken);
            client.NoDelay = true;
            context.Properties.Add(EndpointListener.LocalEndPointKey, listener.LocalEndpoint);
            context.Properties.Add(EndpointListener.RemoteEndPointKey, client.Client.RemoteEndPoint!);
            return new PlainPipe(client, client.GetStream());
        }

        public void Dispose() => listener.Stop();
    }

    /// <summary>A connection without TLS: these servers offer no STARTTLS, so nothing asks to upgrade it.</summary>
    private sealed class PlainPipe(TcpClient client, NetworkStream stream) : ISecurableDuplexPipe
    {
        public PipeReader Input { get; } = PipeReader.Create(stream);

        public PipeWriter Output { get; } = PipeWriter.Create(stream);

        public bool IsSecure => false;

        public SslProtocols SslProtocol => SslProtocols.None;

        public Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("the loopback SMTP server offers no TLS");

        public void Dispose() => client.Dispose();
    }
}
