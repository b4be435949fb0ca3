using System.Collections.Concurrent;
using System.Net;

namespace RapidSos.Http.Auth.Tests.Helpers;

/// <summary>
/// The terminal handler under <see cref="BearerTokenHandler"/> in unit tests: records each send (with the
/// Authorization header and the body bytes as they went out) and answers 401 to tokens it is told to reject.
/// </summary>
internal sealed class RecordingApiHandler : HttpMessageHandler
{
    public ConcurrentQueue<(string? Authorization, byte[] Body)> Sends { get; } = new();

    public HashSet<string> RejectedTokens { get; } = [];

    public List<HttpResponseMessage> Responses { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Read the body as SocketsHttpHandler does: CopyToAsync, which (unlike ReadAsByteArrayAsync) does not
        // buffer it inside the HttpContent, so a content that cannot be sent twice fails here as it would on the wire.
        byte[] body = [];
        if (request.Content is not null)
        {
            using var buffer = new MemoryStream();
            await request.Content.CopyToAsync(buffer, cancellationToken);
            body = buffer.ToArray();
        }

        return Answer(request, body);
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        byte[] body = [];
        if (request.Content is not null)
        {
            using var buffer = new MemoryStream();
            request.Content.CopyTo(buffer, null, cancellationToken);
            body = buffer.ToArray();
        }

        return Answer(request, body);
    }

    private HttpResponseMessage Answer(HttpRequestMessage request, byte[] body)
    {
        var authorization = request.Headers.Authorization;
        Sends.Enqueue((authorization?.ToString(), body));
        var rejected = authorization is null || authorization.Scheme != "Bearer" || RejectedTokens.Contains(authorization.Parameter ?? string.Empty);
        var response = new HttpResponseMessage(rejected ? HttpStatusCode.Unauthorized : HttpStatusCode.OK)
        {
            RequestMessage = request,
            Content = new ByteArrayContent(body),
        };
        lock (Responses)
        {
            Responses.Add(response);
        }

        return response;
    }
}
