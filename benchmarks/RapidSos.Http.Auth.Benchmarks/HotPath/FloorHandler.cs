using System.Net;
using System.Net.Http.Headers;

namespace RapidSos.Http.Auth.Benchmarks.HotPath;

/// <summary>
/// The floor: the smallest handler that could do <see cref="BearerTokenHandler"/>'s job on the hot path. It sets a
/// precomputed <c>Bearer</c> header and returns the inner task as it is when it has completed without a 401;
/// otherwise it awaits it once, and on a 401 resends once (a real handler would fetch a new token first). Its
/// continuation therefore holds what any retrying handler must hold: itself, the request, the task and the
/// cancellation token; nothing more.
/// </summary>
internal sealed class FloorHandler : DelegatingHandler
{
    private readonly AuthenticationHeaderValue _header;

    public FloorHandler(AuthenticationHeaderValue header, HttpMessageHandler inner)
        : base(inner)
    {
        _header = header;
    }

    /// <summary>For <c>IHttpClientFactory</c>, which sets <see cref="DelegatingHandler.InnerHandler"/> itself.</summary>
    public FloorHandler(AuthenticationHeaderValue header)
    {
        _header = header;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = _header;
        var responseTask = base.SendAsync(request, cancellationToken);
        return responseTask.IsCompletedSuccessfully && responseTask.Result.StatusCode != HttpStatusCode.Unauthorized
            ? responseTask
            : AwaitResponseAsync(request, responseTask, cancellationToken);
    }

    private async Task<HttpResponseMessage> AwaitResponseAsync(HttpRequestMessage request, Task<HttpResponseMessage> responseTask, CancellationToken cancellationToken)
    {
        var response = await responseTask.ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        response.Dispose();
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}
