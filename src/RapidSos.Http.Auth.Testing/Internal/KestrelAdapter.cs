using System.Collections.ObjectModel;
using System.Globalization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RapidSos.Http.Auth.Testing.Internal;

/// <summary>
/// Serves <see cref="GatewayCore"/> over a real loopback socket: a bare <see cref="KestrelServer"/>, without a host,
/// dependency injection, routing or middleware, so a request costs little more than Kestrel's own parsing.
/// </summary>
internal sealed class KestrelAdapter : IHttpApplication<HttpContext>
{
    // Load tests open thousands of connections at once; the kernel caps this at its own somaxconn.
    private const int ListenBacklog = 8192;

    private readonly GatewayCore _core;

    private KestrelAdapter(GatewayCore core) => _core = core;

    /// <summary>Starts Kestrel on a port of 127.0.0.1 (0: a free one) and returns it with the address it bound.</summary>
    public static async Task<(KestrelServer Server, Uri Address)> StartAsync(GatewayCore core, int port, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var serverOptions = new KestrelServerOptions { AddServerHeader = false };
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions { Backlog = ListenBacklog }), loggerFactory);
        var server = new KestrelServer(Options.Create(serverOptions), transport, loggerFactory);
        try
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()
                ?? throw new InvalidOperationException("Kestrel did not expose IServerAddressesFeature.");
            addresses.Addresses.Add(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
            await server.StartAsync(new KestrelAdapter(core), cancellationToken).ConfigureAwait(false);

            // Kestrel replaces the requested ":0" with the port the operating system chose.
            var bound = addresses.Addresses.Single();
            return (server, new Uri(bound.EndsWith('/') ? bound : bound + "/"));
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

    public async Task ProcessRequestAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        var httpRequest = context.Request;
        byte[] body;
        try
        {
            body = await ReadBodyAsync(httpRequest, aborted).ConfigureAwait(false);
        }
        catch (Exception) when (aborted.IsCancellationRequested)
        {
            return;
        }

        var request = new EmulatorRequest(
            _core.Now,
            httpRequest.Method,
            httpRequest.Path.Value ?? string.Empty,
            httpRequest.QueryString.Value ?? string.Empty,
            ReadHeaders(httpRequest.Headers),
            body);

        GatewayResponse response;
        try
        {
            response = await _core.ProcessAsync(request, aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested || _core.IsShutDown)
        {
            context.Abort();
            return;
        }

        if (response.AbortConnection)
        {
            context.Abort();
            return;
        }

        var httpResponse = context.Response;
        httpResponse.StatusCode = response.StatusCode;
        foreach (var header in response.Headers)
        {
            httpResponse.Headers[header.Key] = header.Value;
        }

        if (response.ContentType is not null)
        {
            httpResponse.ContentType = response.ContentType;
        }

        httpResponse.ContentLength = response.Body.Length;
        if (response.Body.Length > 0)
        {
            try
            {
                await httpResponse.Body.WriteAsync(response.Body, aborted).ConfigureAwait(false);
            }
            catch (Exception) when (aborted.IsCancellationRequested)
            {
                // The client went away mid-answer; nothing is left to tell it.
            }
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength == 0)
        {
            return [];
        }

        using var buffer = new MemoryStream(request.ContentLength is { } length and <= int.MaxValue ? (int)length : 0);
        await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private static ReadOnlyDictionary<string, string> ReadHeaders(IHeaderDictionary headers)
    {
        var copy = new Dictionary<string, string>(headers.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var header in headers)
        {
            // Joined as HttpClient joins repeated values, so both adapters record the same text.
            copy[header.Key] = string.Join(", ", header.Value.ToArray());
        }

        return new ReadOnlyDictionary<string, string>(copy);
    }
}
