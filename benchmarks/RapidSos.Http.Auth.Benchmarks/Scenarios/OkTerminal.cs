using System.Net;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>
/// A thread-safe terminal for the concurrent scenarios: a new 200 response per request, completed synchronously,
/// so that caller latency is the handler's and the token's, nothing else.
/// </summary>
internal sealed class OkTerminal : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = request });

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        new(HttpStatusCode.OK) { RequestMessage = request };
}
