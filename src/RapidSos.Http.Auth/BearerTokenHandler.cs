using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth;

/// <summary>
/// A <see cref="DelegatingHandler"/> that authenticates every request with <c>Authorization: Bearer</c> and a
/// token from an <see cref="ITokenProvider"/>. When the API answers 401, it asks the provider for a replacement
/// of the rejected token and sends the request once more, body intact; a second 401 is returned to the caller.
/// </summary>
/// <remarks>
/// <para>
/// Add it to a typed or named client with <c>.AddHttpMessageHandler&lt;BearerTokenHandler&gt;()</c> (the default
/// registration) or <c>.AddRapidSosBearerToken(name)</c>.
/// </para>
/// <para>
/// The token is attached only to requests whose origin (scheme, host and port) is the registration's
/// <see cref="RapidSosAuthOptions.BaseAddress"/> or one of its <see cref="RapidSosAuthOptions.AdditionalOrigins"/>;
/// a request to any other origin fails with <see cref="InvalidOperationException"/> before anything is sent.
/// When no token can be had, the request is not sent and <see cref="RapidSosAuthenticationException"/> is thrown.
/// </para>
/// <para>Instances are safe for concurrent use, as <see cref="HttpClient"/> requires.</para>
/// </remarks>
public class BearerTokenHandler : DelegatingHandler
{
    private readonly ITokenProvider _tokenProvider;
    private readonly RegistrationOrigins _origins;
    private readonly CredentialSets? _credentials;
    private readonly bool _retryOnUnauthorized;
    private readonly TokenTelemetry _telemetry;
    private readonly string _registration;

    /// <summary>
    /// Creates a handler that takes tokens from <paramref name="tokenProvider"/> and sends them only to the
    /// origins <paramref name="options"/> allows.
    /// </summary>
    /// <param name="tokenProvider">Where tokens come from.</param>
    /// <param name="options">The registration's options: its base address, additional origins and whether a 401 is retried.
    /// They are read once, here (a handler from <c>AddRapidSosBearerToken</c> or the default registration follows reloaded options instead).</param>
    /// <param name="logger">Where the 401 retries are logged; none when <see langword="null"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tokenProvider"/> or <paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><see cref="RapidSosAuthOptions.BaseAddress"/> or an additional origin is missing, not absolute,
    /// or plain http to a host other than loopback.</exception>
    public BearerTokenHandler(ITokenProvider tokenProvider, RapidSosAuthOptions options, ILogger<BearerTokenHandler>? logger = null)
        : this(tokenProvider, options, FixedOrigins(options), credentials: null, logger, registration: string.Empty, metrics: null)
    {
    }

    internal BearerTokenHandler(
        ITokenProvider tokenProvider, RapidSosAuthOptions options, RegistrationOrigins origins, CredentialSets? credentials, ILogger? logger, string registration, RapidSosAuthMetrics? metrics)
    {
        ArgumentNullException.ThrowIfNull(tokenProvider);
        ArgumentNullException.ThrowIfNull(options);

        _tokenProvider = tokenProvider;
        _retryOnUnauthorized = options.RetryOnUnauthorized;
        _telemetry = new TokenTelemetry(logger, metrics);
        _registration = registration;
        _origins = origins;
        _credentials = credentials;
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The request goes to an origin the registration does not allow.</exception>
    /// <exception cref="RapidSosAuthenticationException">No token could be obtained; the request was not sent.</exception>
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (IsTokenRequest(request))
        {
            // The library's own token request, on a back channel this handler was attached to as well (say by
            // ConfigureHttpClientDefaults): authenticating it would wait for the very token it asks for.
            return base.SendAsync(request, cancellationToken);
        }

        EnsureAllowedOrigin(request);

        var provider = ProviderFor(request, cancellationToken);
        return provider.IsCompletedSuccessfully
            ? SendWith(request, provider.Result, cancellationToken)
            : SendResolvingAsync(request, provider, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The synchronous path (<see cref="HttpClient.Send(HttpRequestMessage)"/>) behaves like the asynchronous one:
    /// a cached token is used without blocking, and a token request shares the cache and the single flight.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The request goes to an origin the registration does not allow.</exception>
    /// <exception cref="RapidSosAuthenticationException">No token could be obtained; the request was not sent.</exception>
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (IsTokenRequest(request))
        {
            return base.Send(request, cancellationToken);
        }

        EnsureAllowedOrigin(request);

        var choosing = ProviderFor(request, cancellationToken);
        var provider = choosing.IsCompletedSuccessfully ? choosing.Result : choosing.AsTask().GetAwaiter().GetResult();

        var token = GetTokenSync(provider, cancellationToken);
        if (_retryOnUnauthorized && ReplayableContent.MustBuffer(request.Content))
        {
            _telemetry.BufferingRequestContent(request);
            request.Content = ReplayableContent.BufferSync(request.Content!, cancellationToken);
        }

        request.Headers.Authorization = token.HeaderValue;
        var response = base.Send(request, cancellationToken);
        if (!_retryOnUnauthorized || response.StatusCode != HttpStatusCode.Unauthorized || RejectedToken(request) is not { } rejected)
        {
            return response;
        }

        var replacement = provider is ISyncTokenProvider sync
            ? sync.RefreshToken(rejected, cancellationToken)
            : provider.RefreshTokenAsync(rejected, cancellationToken).AsTask().GetAwaiter().GetResult();
        if (!PrepareRetry(request, rejected, replacement, response))
        {
            return response;
        }

        return AfterRetry(request, provider, base.Send(request, cancellationToken));
    }

    private static AccessToken GetTokenSync(ITokenProvider provider, CancellationToken cancellationToken)
    {
        // The built-in provider serves a cached token at once and otherwise fetches synchronously on this thread
        // (or waits for the fetch already under way); a custom provider without a synchronous path can only be
        // waited for.
        if (provider is ISyncTokenProvider sync)
        {
            return sync.GetToken(cancellationToken);
        }

        var tokenTask = provider.GetTokenAsync(cancellationToken);
        return tokenTask.IsCompletedSuccessfully ? tokenTask.Result : tokenTask.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// The library's own token request: by its type (a type check) or, for a copy a handler in front of this one
    /// made, as a POST to one of the registration's token endpoints (only POSTs pay the comparison).
    /// </summary>
    private bool IsTokenRequest(HttpRequestMessage request) =>
        request is TokenEndpointRequest || (request.Method == HttpMethod.Post && _origins.Current.IsTokenRequest(request));

    /// <summary>Where a request's own credential gets its token; a handler built by hand has no such place, and says so rather than ignore it.</summary>
    private CredentialSets RunTimeCredentials() =>
        _credentials ?? throw new InvalidOperationException(
            "The request carries a RapidSosCredential (WithRapidSosCredential), but this BearerTokenHandler was built by hand around a single ITokenProvider. " +
            "Attach the handler through services.AddRapidSosAuthentication(...) and .AddRapidSosBearerToken() (or AddHttpMessageHandler<BearerTokenHandler>()) to use per-request credentials.");

    /// <summary>
    /// Whose token a request carries, the one rule for the first send, a resend and both paths: the request's own
    /// credential, else the registration's resolver's (asked again for a resend), else the registration's own. Completes
    /// at once unless a resolver answers later.
    /// </summary>
    private ValueTask<ITokenProvider> ProviderFor(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (RequestCredential.Of(request) is { } credential)
        {
            return new ValueTask<ITokenProvider>(RunTimeCredentials().For(credential));
        }

        if (_credentials is not { Resolver: { } resolver } credentials)
        {
            return new ValueTask<ITokenProvider>(_tokenProvider);
        }

        var resolving = resolver.ResolveAsync(request, cancellationToken);
        return resolving.IsCompletedSuccessfully
            ? new ValueTask<ITokenProvider>(resolving.Result is { } resolved ? credentials.For(resolved) : _tokenProvider)
            : ResolvedAsync(resolving, credentials);
    }

    private async ValueTask<ITokenProvider> ResolvedAsync(ValueTask<RapidSosCredential?> resolving, CredentialSets credentials) =>
        await resolving.ConfigureAwait(false) is { } resolved ? credentials.For(resolved) : _tokenProvider;

    /// <summary>The hot path: a cached token, nothing to buffer, no await unless the response is a 401 or still pending.</summary>
    private Task<HttpResponseMessage> SendWith(HttpRequestMessage request, ITokenProvider provider, CancellationToken cancellationToken)
    {
        var tokenTask = provider.GetTokenAsync(cancellationToken);
        if (!tokenTask.IsCompletedSuccessfully || (_retryOnUnauthorized && ReplayableContent.MustBuffer(request.Content)))
        {
            return SendSlowAsync(request, provider, tokenTask, cancellationToken);
        }

        request.Headers.Authorization = tokenTask.Result.HeaderValue;
        var responseTask = base.SendAsync(request, cancellationToken);
        if (!_retryOnUnauthorized
            || (responseTask.IsCompletedSuccessfully && responseTask.Result.StatusCode != HttpStatusCode.Unauthorized))
        {
            return responseTask;
        }

        return AwaitResponseAsync(request, responseTask, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendResolvingAsync(HttpRequestMessage request, ValueTask<ITokenProvider> choosing, CancellationToken cancellationToken)
    {
        var provider = await choosing.ConfigureAwait(false);
        return await SendWith(request, provider, cancellationToken).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> AwaitResponseAsync(HttpRequestMessage request, Task<HttpResponseMessage> responseTask, CancellationToken cancellationToken)
    {
        // The rejected token is read back from the request rather than carried across the await: the continuation
        // then holds only what any handler that resends must hold (8 bytes less per pending request).
        // Nor is the provider: on a 401 it is chosen again as for the first send (the request's credential, else the
        // resolver, asked once more for the resend, else the registration's own), so no pending request carries it.
        var response = await responseTask.ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.Unauthorized && RejectedToken(request) is { } rejected
            ? await RetryAfterUnauthorizedAsync(request, rejected, response, cancellationToken).ConfigureAwait(false)
            : response;
    }

    /// <summary>A method of its own, so the continuation every pending request allocates has one awaiter, not three (48 bytes less).</summary>
    private async Task<HttpResponseMessage> RetryAfterUnauthorizedAsync(HttpRequestMessage request, AccessToken rejected, HttpResponseMessage unauthorized, CancellationToken cancellationToken)
    {
        var provider = await ProviderFor(request, cancellationToken).ConfigureAwait(false);
        return await RetryWithNewTokenAsync(request, provider, rejected, unauthorized, cancellationToken).ConfigureAwait(false);
    }


    private async Task<HttpResponseMessage> SendSlowAsync(HttpRequestMessage request, ITokenProvider provider, ValueTask<AccessToken> tokenTask, CancellationToken cancellationToken)
    {
        // No token, no request: sending it bare would only earn a confusing 401.
        var token = await tokenTask.ConfigureAwait(false);

        if (_retryOnUnauthorized && ReplayableContent.MustBuffer(request.Content))
        {
            // The first send may consume what cannot be read again (a stream, an async stream); buffer it so a retry sends the same bytes.
            _telemetry.BufferingRequestContent(request);
            await ReplayableContent.BufferAsync(request.Content!, cancellationToken).ConfigureAwait(false);
        }

        request.Headers.Authorization = token.HeaderValue;
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return _retryOnUnauthorized && response.StatusCode == HttpStatusCode.Unauthorized && RejectedToken(request) is { } rejected
            ? await RetryWithNewTokenAsync(request, provider, rejected, response, cancellationToken).ConfigureAwait(false)
            : response;
    }

    private async Task<HttpResponseMessage> RetryWithNewTokenAsync(
        HttpRequestMessage request, ITokenProvider provider, AccessToken rejected, HttpResponseMessage unauthorized, CancellationToken cancellationToken)
    {
        var replacement = await provider.RefreshTokenAsync(rejected, cancellationToken).ConfigureAwait(false);
        return PrepareRetry(request, rejected, replacement, unauthorized)
            ? AfterRetry(request, provider, await base.SendAsync(request, cancellationToken).ConfigureAwait(false))
            : unauthorized;
    }

    /// <summary>
    /// Puts the replacement on the request for the resend, shared by both paths. A provider that hands back the
    /// rejected token itself says "no new token now" (the built-in one does while the API is seen rejecting fresh
    /// tokens): the 401 then goes back to the caller as it is, since resending the same token cannot help.
    /// </summary>
    /// <returns>Whether to resend.</returns>
    private bool PrepareRetry(HttpRequestMessage request, AccessToken rejected, AccessToken replacement, HttpResponseMessage unauthorized)
    {
        if (ReferenceEquals(replacement, rejected) || string.Equals(replacement.Value, rejected.Value, StringComparison.Ordinal))
        {
            _telemetry.UnauthorizedNotRetried(request);
            return false;
        }

        unauthorized.Dispose();
        _telemetry.RetryingAfterUnauthorized(_registration, request);
        request.Headers.Authorization = replacement.HeaderValue;
        return true;
    }

    /// <summary>The resend's response goes back as it is; a second 401 is only logged, never retried, and reported to the provider.</summary>
    private HttpResponseMessage AfterRetry(HttpRequestMessage request, ITokenProvider provider, HttpResponseMessage response)
    {
        var rejectedAgain = response.StatusCode == HttpStatusCode.Unauthorized;
        if (rejectedAgain)
        {
            _telemetry.UnauthorizedAfterRetry(request);
        }

        if (provider is IResendFeedback feedback)
        {
            if (rejectedAgain)
            {
                feedback.ResendRejected(((BearerHeaderValue)request.Headers.Authorization!).Token);
            }
            else
            {
                feedback.ResendAccepted();
            }
        }

        return response;
    }

    /// <summary>
    /// The token a 401 rejected, when the request may be sent again with a new one: its <c>Authorization</c> header is
    /// still the one this handler set and it still goes to an allowed origin. An auto-redirect rewrites
    /// <see cref="HttpRequestMessage.RequestUri"/> and drops the header when it leaves the origin, so a 401 from
    /// wherever a redirect led is returned as it is instead of earning that host a fresh token.
    /// </summary>
    private AccessToken? RejectedToken(HttpRequestMessage request) =>
        request.Headers.Authorization is BearerHeaderValue sent && request.RequestUri is { } uri && _origins.Current.Matches(uri) ? sent.Token : null;

    /// <summary>
    /// On every request, so only the check is inlined: <see cref="AllowedOrigins.Matches"/> is false for a relative
    /// URI, and which of the two failures it was is worked out on the way to the exception.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnsureAllowedOrigin(HttpRequestMessage request)
    {
        if (request.RequestUri is not { } uri || !_origins.Current.Matches(uri))
        {
            ThrowNotAllowed(request);
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowNotAllowed(HttpRequestMessage request)
    {
        if (request.RequestUri is not { IsAbsoluteUri: true })
        {
            throw new InvalidOperationException(
                "The request has no absolute RequestUri, so the RapidSOS bearer token cannot be checked against the allowed origins. Set HttpClient.BaseAddress or use an absolute URI.");
        }

        throw new InvalidOperationException(
            $"The request to {OriginOf(request)} was not sent: the RapidSOS bearer token is sent only to {_origins.Current.Describe()}. " +
            $"Add the origin to {nameof(RapidSosAuthOptions)}.{nameof(RapidSosAuthOptions.AdditionalOrigins)} if it is a RapidSOS API.");
    }

    private static string OriginOf(HttpRequestMessage request) => TokenTelemetry.OriginOf(request);

    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    private static RegistrationOrigins FixedOrigins(RapidSosAuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new RegistrationOrigins(AllowedOrigins.From(options));
    }
}
