using System.Collections.ObjectModel;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;

namespace RapidSos.Http.Auth.Testing.Internal;

/// <summary>
/// Serves <see cref="GatewayCore"/> in-process: copies an <see cref="HttpRequestMessage"/> into an
/// <see cref="EmulatorRequest"/> and the answer into an <see cref="HttpResponseMessage"/>, with no socket in between.
/// Any host is accepted; only the path matters, as if DNS pointed every name at the emulator.
/// </summary>
internal sealed class InMemoryHandler : HttpMessageHandler
{
    private readonly GatewayCore _core;

    public InMemoryHandler(GatewayCore core) => _core = core;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_core.IsShutDown, typeof(RapidSosGatewayEmulator));
        var uri = request.RequestUri;
        if (uri is null || !uri.IsAbsoluteUri)
        {
            throw new InvalidOperationException("The request URI must be absolute; set HttpClient.BaseAddress to the emulator's BaseAddress.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var body = request.Content is null
            ? []
            : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);

        var emulatorRequest = new EmulatorRequest(
            _core.Now,
            request.Method.Method,
            PathString.FromUriComponent(uri).Value ?? string.Empty,
            uri.Query,
            ReadHeaders(request, uri, body.Length),
            body);

        var response = await _core.ProcessAsync(emulatorRequest, cancellationToken).ConfigureAwait(false);
        if (response.AbortConnection)
        {
            // What SocketsHttpHandler throws when the server resets the connection before answering.
            throw new HttpRequestException(
                HttpRequestError.ResponseEnded,
                "An error occurred while sending the request.",
                new IOException(
                    "Unable to read data from the transport connection: Connection reset by peer.",
                    new SocketException((int)SocketError.ConnectionReset)));
        }

        return ToResponseMessage(response, request);
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendAsync(request, cancellationToken).GetAwaiter().GetResult();

    private static ReadOnlyDictionary<string, string> ReadHeaders(HttpRequestMessage request, Uri uri, int bodyLength)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in request.Headers.NonValidated)
        {
            headers[header.Key] = JoinValues(header.Value);
        }

        if (request.Content is { } content)
        {
            foreach (var header in content.Headers.NonValidated)
            {
                headers[header.Key] = JoinValues(header.Value);
            }

            // Set as the wire would carry it: SocketsHttpHandler sends the length of a buffered body.
            headers["Content-Length"] = bodyLength.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        headers.TryAdd("Host", uri.Authority);
        return new ReadOnlyDictionary<string, string>(headers);
    }

    /// <summary>Joins and trims values as an HTTP server's parser would (leading and trailing whitespace is not part of a field value).</summary>
    private static string JoinValues(HeaderStringValues values) => string.Join(", ", values).Trim(' ', '\t');

    private static HttpResponseMessage ToResponseMessage(GatewayResponse response, HttpRequestMessage request)
    {
        var content = new ByteArrayContent(response.Body);
        if (response.ContentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", response.ContentType);
        }

        var message = new HttpResponseMessage((HttpStatusCode)response.StatusCode)
        {
            Content = content,
            RequestMessage = request,
            Version = HttpVersion.Version11,
        };
        foreach (var header in response.Headers)
        {
            // Allow is a content header in System.Net.Http; everything else here is a response header.
            if (!message.Headers.TryAddWithoutValidation(header.Key, header.Value))
            {
                content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        return message;
    }
}
