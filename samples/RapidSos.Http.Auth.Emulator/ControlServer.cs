using System.Globalization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace RapidSos.Http.Auth.Emulator;

/// <summary>
/// Serves the <see cref="ControlApi"/> on a port of 127.0.0.1 of its own: a bare Kestrel, like the emulator's, without a
/// host, dependency injection or logging, so it starts in milliseconds and never writes a line.
/// </summary>
internal sealed class ControlServer : IHttpApplication<HttpContext>, IAsyncDisposable
{
    private static readonly TimeSpan ShutdownGracePeriod = TimeSpan.FromSeconds(2);

    private readonly ControlApi _api;
    private KestrelServer? _server;

    private ControlServer(ControlApi api) => _api = api;

    /// <summary>Gets the root of the control API: <c>http://127.0.0.1:port/_emulator/</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Starts listening on <paramref name="port"/> of 127.0.0.1 (0: a free one).</summary>
    /// <exception cref="IOException">The port is in use.</exception>
    public static async Task<ControlServer> StartAsync(ControlApi api, int port, CancellationToken cancellationToken)
    {
        var control = new ControlServer(api);
        var options = new KestrelServerOptions { AddServerHeader = false };
        options.Limits.MaxRequestBodySize = ControlApi.MaxBodyBytes;
        var server = new KestrelServer(
            Options.Create(options),
            new SocketTransportFactory(Options.Create(new SocketTransportOptions()), NullLoggerFactory.Instance),
            NullLoggerFactory.Instance);
        try
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()
                ?? throw new InvalidOperationException("Kestrel did not expose IServerAddressesFeature.");
            addresses.Addresses.Add(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
            await server.StartAsync(control, cancellationToken).ConfigureAwait(false);
            control._server = server;
            control.Address = new Uri(new Uri(addresses.Addresses.Single().TrimEnd('/') + "/"), ControlApi.Prefix.TrimStart('/') + "/");
            return control;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

    public void DisposeContext(HttpContext context, Exception? exception)
    {
    }

    public Task ProcessRequestAsync(HttpContext context) => _api.HandleAsync(context);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _server, null) is { } server)
        {
            using var grace = new CancellationTokenSource(ShutdownGracePeriod);
            try
            {
                await server.StopAsync(grace.Token).ConfigureAwait(false);
            }
            finally
            {
                server.Dispose();
            }
        }
    }
}
