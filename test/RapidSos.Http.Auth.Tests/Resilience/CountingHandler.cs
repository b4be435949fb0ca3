namespace RapidSos.Http.Auth.Tests.Resilience;

/// <summary>
/// A passive handler that reports every request through it to a <see cref="RequestCounter"/>: placed just outside
/// the bearer handler it counts the pipeline's attempts; placed innermost it tells the test clock when a request is
/// on the wire.
/// </summary>
internal sealed class CountingHandler(RequestCounter counter) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        counter.Started();
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            counter.Ended();
        }
    }
}
