using System.Net;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Posts token requests through the named back-channel client and turns every outcome into a token or a
/// <see cref="RapidSosAuthenticationException"/>.
/// </summary>
/// <remarks>
/// One code path serves both callers: with <c>async: false</c> every I/O call is the synchronous one
/// (<see cref="HttpClient.Send(HttpRequestMessage, HttpCompletionOption, CancellationToken)"/>,
/// <see cref="Stream.Read(Span{byte})"/>), so the returned task is already complete and nothing blocks on
/// asynchronous work: the pattern SocketsHttpHandler itself uses.
/// </remarks>
internal sealed class TokenEndpointClient
{
    /// <summary>Token responses are a few hundred bytes; anything past this is not a token response.</summary>
    internal const int MaxResponseBytes = 64 * 1024;

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly TimeProvider _timeProvider;

    public TokenEndpointClient(IHttpClientFactory httpClientFactory, TimeProvider? timeProvider = null)
    {
        _httpClientFactory = httpClientFactory;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// Requests a token. The callers' cancellation is not passed in: one request serves many callers, and its
    /// time limit is the back-channel client's <see cref="HttpClient.Timeout"/>, which also bounds reading the body.
    /// </summary>
    public Task<(string Token, TimeSpan Lifetime)> RequestTokenAsync(TokenRequestSettings settings, string? heldToken = null) =>
        RequestTokenCoreAsync(settings, heldToken, async: true);

    /// <summary>The synchronous twin of <see cref="RequestTokenAsync"/>, for <see cref="HttpClient.Send(HttpRequestMessage)"/> callers.</summary>
    public (string Token, TimeSpan Lifetime) RequestToken(TokenRequestSettings settings, string? heldToken = null)
    {
        var task = RequestTokenCoreAsync(settings, heldToken, async: false);
        System.Diagnostics.Debug.Assert(task.IsCompleted, "the synchronous path must not suspend");
        return task.GetAwaiter().GetResult();
    }

    private async Task<(string Token, TimeSpan Lifetime)> RequestTokenCoreAsync(TokenRequestSettings settings, string? heldToken, bool async)
    {
        var client = _httpClientFactory.CreateClient(RapidSosAuthDefaults.TokenClientName);

        // HttpClient.Timeout stops at the response headers when they are read first; this bounds the body too.
        using var timeout = client.Timeout == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(client.Timeout);
        using var request = settings.CreateRequest();
        HttpResponseMessage response;
        try
        {
            response = async
                ? await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false)
                : client.Send(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        }
        catch (OperationCanceledException ex)
        {
            throw TimedOut(settings, client, Scrubbed(ex, settings.Scrubber.WithToken(heldToken)));
        }
        catch (HttpRequestException ex)
        {
            throw new RapidSosAuthenticationException(
                $"The RapidSOS token endpoint {settings.DisplayEndpoint} could not be reached: {settings.Scrubber.WithToken(heldToken).Scrub(ex.Message)}",
                Scrubbed(ex, settings.Scrubber.WithToken(heldToken)), statusCode: null, detail: null, settings.DisplayEndpoint);
        }

        using (response)
        {
            byte[] buffer;
            int length;
            try
            {
                (buffer, length) = await ReadBodyAsync(response.Content, settings, async, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex)
            {
                throw TimedOut(settings, client, Scrubbed(ex, settings.Scrubber.WithToken(heldToken)));
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException)
            {
                throw new RapidSosAuthenticationException(
                    $"The RapidSOS token response from {settings.DisplayEndpoint} could not be read: {settings.Scrubber.WithToken(heldToken).Scrub(ex.Message)}",
                    Scrubbed(ex, settings.Scrubber.WithToken(heldToken)), response.StatusCode, detail: null, settings.DisplayEndpoint);
            }

            try
            {
                var body = buffer.AsSpan(0, length);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw ErrorResponse.ToException(response.StatusCode, body, response.Content.Headers.ContentType?.MediaType, RetryAfter(response), settings, settings.Scrubber.WithToken(heldToken));
                }

                return TokenResponseParser.Parse(body, settings.DisplayEndpoint);
            }
            finally
            {
                // The buffer held the token: do not leave it lying in memory longer than needed.
                Array.Clear(buffer);
            }
        }
    }

    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpContent content, TokenRequestSettings settings, bool async, CancellationToken cancellationToken)
    {
        var declared = content.Headers.ContentLength;
        if (declared > MaxResponseBytes)
        {
            throw TooLarge(settings);
        }

        var buffer = new byte[declared is > 0 ? (int)declared.Value + 1 : 1024];
        var stream = async
            ? await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false)
            : content.ReadAsStream(cancellationToken);
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = new byte[Math.Min(buffer.Length * 2, MaxResponseBytes + 1)];
                    buffer.AsSpan(0, length).CopyTo(larger);
                    Array.Clear(buffer);
                    buffer = larger;
                }

                var read = async
                    ? await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)
                    : stream.Read(buffer.AsSpan(length));
                if (read == 0)
                {
                    return (buffer, length);
                }

                length += read;
                if (length > MaxResponseBytes)
                {
                    Array.Clear(buffer);
                    throw TooLarge(settings);
                }
            }
        }
        finally
        {
            if (async)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                stream.Dispose();
            }
        }
    }

    /// <summary>
    /// The transport's exception as the inner one, unless its text (message or any inner message) quotes a secret:
    /// then a copy with every message scrubbed, so <see cref="Exception.ToString"/> and a logged exception stay clean.
    /// </summary>
    private static Exception Scrubbed(Exception ex, SecretScrubber scrubber)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (scrubber.Scrub(e.Message) != e.Message)
            {
                return Copy(ex, scrubber);
            }
        }

        return ex;

        static Exception Copy(Exception e, SecretScrubber scrubber)
        {
            var inner = e.InnerException is { } i ? Copy(i, scrubber) : null;
            var message = scrubber.Scrub(e.Message);
            return e switch
            {
                HttpRequestException h => new HttpRequestException(h.HttpRequestError, message, inner, h.StatusCode),
                OperationCanceledException => new OperationCanceledException(message, inner),
                IOException => new IOException(message, inner),
                _ => new HttpRequestException(message, inner),
            };
        }
    }

    private static RapidSosAuthenticationException TimedOut(TokenRequestSettings settings, HttpClient client, Exception ex) =>
        new($"The RapidSOS token request to {settings.DisplayEndpoint} timed out after {client.Timeout.TotalSeconds:0.###} s.",
            ex, statusCode: null, detail: null, settings.DisplayEndpoint);

    private static RapidSosAuthenticationException TooLarge(TokenRequestSettings settings) =>
        new($"The RapidSOS token response from {settings.DisplayEndpoint} is larger than {MaxResponseBytes / 1024} KiB; it is not a token response and was not read.",
            innerException: null, statusCode: null, detail: null, settings.DisplayEndpoint);

    private TimeSpan? RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - _timeProvider.GetUtcNow(),
            _ => null,
        };
}
