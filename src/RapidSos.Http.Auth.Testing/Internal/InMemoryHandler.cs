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
    // SocketsHttpHandler's message for a request that failed while being sent.
    private const string SendError = "An error occurred while sending the request.";

    private readonly GatewayCore _core;

    public InMemoryHandler(GatewayCore core) => _core = core;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendCoreAsync(request, synchronous: false, cancellationToken);

    // The body is read with the synchronous CopyTo, as SocketsHttpHandler.Send does. What is left to wait for is
    // the core's latencies and stalls, timers whose continuations never need the caller's thread.
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendCoreAsync(request, synchronous: true, cancellationToken).GetAwaiter().GetResult();

    private async Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, bool synchronous, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = request.RequestUri;
        if (uri is null || !uri.IsAbsoluteUri)
        {
            throw new InvalidOperationException("The request URI must be absolute; set HttpClient.BaseAddress to the emulator's BaseAddress.");
        }

        if (_core.IsShutDown)
        {
            // What SocketsHttpHandler throws when nothing listens any more: a disposed Kestrel emulator.
            throw new HttpRequestException(
                HttpRequestError.ConnectionError,
                $"Connection refused ({uri.Host}:{uri.Port})",
                new SocketException((int)SocketError.ConnectionRefused));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var headers = ReadHeaders(request, uri, out var framedLength);
        var body = request.Content is { } content
            ? await ReadBodyAsync(content, framedLength, synchronous, cancellationToken).ConfigureAwait(false)
            : [];

        var emulatorRequest = new EmulatorRequest(
            _core.Now,
            request.Method.Method,
            PathString.FromUriComponent(uri).Value ?? string.Empty,
            uri.Query,
            headers,
            body);

        GatewayResponse response;
        try
        {
            response = await _core.ProcessAsync(emulatorRequest, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && _core.IsShutDown)
        {
            // Disposal ended a latency or stall: the Kestrel form aborts that connection.
            throw ConnectionReset();
        }

        if (response.AbortConnection)
        {
            throw ConnectionReset();
        }

        return ToResponseMessage(response, request);
    }

    /// <summary>What SocketsHttpHandler throws when the server resets the connection before answering (as measured on Linux).</summary>
    private static HttpRequestException ConnectionReset() =>
        new(
            HttpRequestError.Unknown,
            SendError,
            new IOException(
                "Unable to read data from the transport connection: Connection reset by peer.",
                new SocketException((int)SocketError.ConnectionReset)));

    /// <summary>
    /// Reads the body once, as a socket would: <see cref="HttpContent.CopyToAsync(Stream, TransportContext?, CancellationToken)"/>
    /// serialises the content without buffering it in the content object, so a content that cannot be serialised twice
    /// (a <see cref="StreamContent"/> over a stream that cannot seek) fails the second time it is sent, here as over Kestrel.
    /// Failures surface as SocketsHttpHandler surfaces them.
    /// </summary>
    /// <param name="content">The request content.</param>
    /// <param name="framedLength">The <c>Content-Length</c> sent, or <see langword="null"/> for a chunked body.</param>
    /// <param name="synchronous">Whether to use the synchronous <see cref="HttpContent.CopyTo"/>.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    private static async Task<byte[]> ReadBodyAsync(HttpContent content, long? framedLength, bool synchronous, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream(framedLength is { } length and <= int.MaxValue ? (int)length : 0);
        try
        {
            if (synchronous)
            {
                content.CopyTo(buffer, null, cancellationToken);
            }
            else
            {
                await content.CopyToAsync(buffer, null, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException)
        {
            // SocketsHttpHandler wraps exactly these two when sending the content; anything else reaches the caller as is.
            throw new HttpRequestException(
                exception is HttpIOException io ? io.HttpRequestError : HttpRequestError.Unknown,
                SendError,
                exception);
        }

        // A content whose length lies: SocketsHttpHandler refuses to send more or fewer bytes than it announced.
        if (framedLength is { } announced && buffer.Length != announced)
        {
            throw new HttpRequestException(buffer.Length > announced
                ? "Unable to write content to request stream; content would exceed Content-Length."
                : $"Sent {buffer.Length} request content bytes, but Content-Length promised {announced}.");
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// The request and content headers, with the framing headers SocketsHttpHandler would put on the wire for HTTP/1.1:
    /// <c>Content-Length</c> when the content knows its length, <c>Transfer-Encoding: chunked</c> when it does not (or
    /// the caller asked for chunks), <c>Content-Length: 0</c> for a POST or PUT without content, and <c>Host</c>.
    /// </summary>
    private static ReadOnlyDictionary<string, string> ReadHeaders(HttpRequestMessage request, Uri uri, out long? framedLength)
    {
        framedLength = null;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in request.Headers.NonValidated)
        {
            headers[header.Key] = JoinValues(header.Value);
        }

        if (request.Content is { } content)
        {
            // Read before the content headers are copied: it computes the length, which adds the header when known.
            var length = content.Headers.ContentLength;
            foreach (var header in content.Headers.NonValidated)
            {
                headers[header.Key] = JoinValues(header.Value);
            }

            if (length is null || request.Headers.TransferEncodingChunked == true)
            {
                headers.Remove("Content-Length");
                headers["Transfer-Encoding"] = "chunked";
            }
            else
            {
                framedLength = length;
            }
        }
        else if (MustHaveRequestBody(request.Method))
        {
            headers["Content-Length"] = "0";
        }

        headers.TryAdd("Host", uri.Authority);
        return new ReadOnlyDictionary<string, string>(headers);
    }

    /// <summary>The methods for which SocketsHttpHandler sends <c>Content-Length: 0</c> when there is no content.</summary>
    private static bool MustHaveRequestBody(HttpMethod method) =>
        method != HttpMethod.Get && method != HttpMethod.Head && method != HttpMethod.Options && method != HttpMethod.Delete
        && !string.Equals(method.Method, "CONNECT", StringComparison.OrdinalIgnoreCase);

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
