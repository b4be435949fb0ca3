using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RapidSos.Http.Auth.Http8Tests;

/// <summary>
/// A RapidSOS gateway on 127.0.0.1 served by <see cref="HttpListener"/>, so this project needs no ASP.NET Core (which
/// would bring the 10.x extensions). <c>POST /oauth/token</c> issues a new token each time and records the
/// <c>Authorization</c> header it was sent; <c>GET /v1/ping</c> answers 200 to an issued token and 401 to a revoked
/// or unknown one.
/// </summary>
internal sealed class LoopbackGateway : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Task _serving;
    private readonly ConcurrentDictionary<string, bool> _issued = new();

    public LoopbackGateway()
    {
        (_listener, BaseAddress) = Listen();
        _serving = Task.Run(ServeAsync);
    }

    public Uri BaseAddress { get; }

    /// <summary>Every token issued, oldest first.</summary>
    public ConcurrentQueue<string> IssuedTokens { get; } = new();

    /// <summary>The <c>Authorization</c> header of every token request, as received.</summary>
    public ConcurrentQueue<string> TokenRequestAuthorizations { get; } = new();

    /// <summary>Makes the API answer 401 to <paramref name="token"/> from now on.</summary>
    public void Revoke(string token) => _issued[token] = false;

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving;
    }

    private static (HttpListener Listener, Uri BaseAddress) Listen()
    {
        // HttpListener cannot bind port 0, so a free port is found first; another process can take it in between,
        // hence the few attempts.
        for (var attempt = 1; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();

            var baseAddress = new Uri($"http://127.0.0.1:{port}/");
            var listener = new HttpListener();
            listener.Prefixes.Add(baseAddress.ToString());
            try
            {
                listener.Start();
                return (listener, baseAddress);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                listener.Close();
            }
        }
    }

    private async Task ServeAsync()
    {
        while (true)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => Answer(context));
        }
    }

    private void Answer(HttpListenerContext context)
    {
        using var response = context.Response;
        var request = context.Request;
        var authorization = request.Headers["Authorization"] ?? "";
        if (request.HttpMethod == "POST" && request.Url!.AbsolutePath == "/oauth/token")
        {
            TokenRequestAuthorizations.Enqueue(authorization);
            var token = $"issued-{Guid.NewGuid():N}";
            _issued[token] = true;
            IssuedTokens.Enqueue(token);
            Write(response, HttpStatusCode.OK, $$"""{"access_token":"{{token}}","token_type":"BearerToken","expires_in":3600}""");
        }
        else if (request.Url!.AbsolutePath == "/v1/ping")
        {
            var accepted = authorization.StartsWith("Bearer ", StringComparison.Ordinal)
                && _issued.TryGetValue(authorization["Bearer ".Length..], out var valid) && valid;
            Write(response, accepted ? HttpStatusCode.OK : HttpStatusCode.Unauthorized, accepted ? """{"pong":true}""" : """{"error":"invalid_token"}""");
        }
        else
        {
            Write(response, HttpStatusCode.NotFound, "{}");
        }
    }

    private static void Write(HttpListenerResponse response, HttpStatusCode status, string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        response.StatusCode = (int)status;
        response.ContentType = "application/json";
        response.ContentLength64 = body.Length;
        response.OutputStream.Write(body);
    }
}
