using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace RapidSos.Http.Auth.Tests.Helpers;

/// <summary>
/// A back-channel <see cref="HttpMessageHandler"/> for unit tests of the token provider: answers token requests
/// in-process, counts them, records them, and can hold them behind a gate so a test controls when they finish.
/// Integration tests use the gateway emulator on Kestrel instead.
/// </summary>
internal sealed class StubTokenEndpoint : HttpMessageHandler
{
    private int _requestCount;
    private volatile TaskCompletionSource? _gate;

    public ConcurrentQueue<RecordedTokenRequest> Requests { get; } = new();

    public int RequestCount => Volatile.Read(ref _requestCount);

    /// <summary>Builds the response for the n-th request (1-based). Defaults to a fresh token each time.</summary>
    public Func<int, HttpRequestMessage, HttpResponseMessage> Respond { get; set; } = (n, _) => Token($"token-{n}");

    /// <summary>Holds every request until <see cref="Release"/> is called.</summary>
    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate?.TrySetResult();

    /// <summary>Completes when <paramref name="count"/> requests have arrived.</summary>
    public Task WaitForRequestsAsync(int count) => Poll.UntilAsync(() => RequestCount >= count, $"{count} token request(s) at the stub endpoint");

    public static HttpResponseMessage Token(string token, string expiresIn = "3599") =>
        Json(HttpStatusCode.OK, $$"""{"access_token":"{{token}}","token_type":"BearerToken","issued_at":"1513793277823","expires_in":"{{expiresIn}}"}""");

    public static HttpResponseMessage Json(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    // HttpClient.Send on the back channel (the synchronous path): the same behaviour, on the caller's thread.
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        SynchronousSends++;
        return SendAsync(request, cancellationToken).GetAwaiter().GetResult();
    }

    public int SynchronousSends { get; private set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var n = Interlocked.Increment(ref _requestCount);
        var body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
        Requests.Enqueue(new RecordedTokenRequest(request.Method, request.RequestUri!, request.Headers.Authorization?.ToString(), request.Content?.Headers.ContentType?.MediaType, body));
        if (_gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        var response = Respond(n, request);
        response.RequestMessage = request;
        return response;
    }
}

internal sealed record RecordedTokenRequest(HttpMethod Method, Uri Uri, string? Authorization, string? MediaType, string Body)
{
    public Dictionary<string, string> Form =>
        Body.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p.Length > 1 ? p[1].Replace('+', ' ') : string.Empty));
}
