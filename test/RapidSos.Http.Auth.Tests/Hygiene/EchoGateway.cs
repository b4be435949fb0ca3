using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RapidSos.Http.Auth.Tests.Hygiene;

/// <summary>
/// A token endpoint on real Kestrel (127.0.0.1) that answers every token request with whatever the test chose,
/// given the request's <c>Authorization</c> header so that it can echo the Basic credentials it received. Any
/// other path answers 200, as an API would.
/// </summary>
internal sealed class EchoGateway : IAsyncDisposable
{
    private readonly WebApplication _app;
    private Func<string?, EchoAnswer>? _answer;
    private int _tokenRequests;

    private EchoGateway(WebApplication app) => _app = app;

    /// <summary>Gets the gateway's address, with a trailing slash.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Gets how many token requests arrived so far.</summary>
    public int TokenRequests => Volatile.Read(ref _tokenRequests);

    public static async Task<EchoGateway> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var gateway = new EchoGateway(app);
        app.Run(gateway.HandleAsync);
        await app.StartAsync();
        gateway.BaseAddress = new Uri(app.Urls.Single().TrimEnd('/') + "/");
        return gateway;
    }

    /// <summary>Sets the answer to every token request from now on.</summary>
    public void AnswerWith(Func<string?, EchoAnswer> answer) => Volatile.Write(ref _answer, answer);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        await request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
        if (!(request.Path.Value ?? string.Empty).EndsWith("/token", StringComparison.Ordinal))
        {
            response.StatusCode = StatusCodes.Status200OK;
            return;
        }

        var authorization = request.Headers.Authorization.ToString();
        var answer = (Volatile.Read(ref _answer) ?? throw new InvalidOperationException("No answer was set."))(authorization.Length == 0 ? null : authorization);
        Interlocked.Increment(ref _tokenRequests);
        response.StatusCode = answer.Status;
        response.ContentType = answer.ContentType;
        if (answer.RetryAfterSeconds is { } retryAfter)
        {
            response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        }

        var body = Encoding.UTF8.GetBytes(answer.Body);
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, context.RequestAborted);
    }
}
