using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Every log, metric and activity of the token flow and the handler, in one place. No method can throw: a log
/// sink, meter listener or activity listener that fails is its own problem, never a caller's, and never leaves a
/// refresh or a waiter stranded. Callers invoke it outside any lock.
/// </summary>
internal sealed class TokenTelemetry
{
    private readonly ILogger _logger;
    private readonly RapidSosAuthMetrics _metrics;

    public TokenTelemetry(ILogger? logger, RapidSosAuthMetrics? metrics)
    {
        _logger = logger ?? NullLogger.Instance;
        _metrics = metrics ?? RapidSosAuthMetrics.Shared;
    }

    /// <summary>Counts a token served from the cache: on the hot path, so the guarded work runs only when someone listens.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CacheHit(string registration)
    {
        if (_metrics.CacheHits.Enabled)
        {
            CountCacheHit(registration);
        }
    }

    public Activity? TokenRequestStarting(TokenRequestSettings settings)
    {
        try
        {
            return RapidSosAuthMetrics.StartTokenRequestActivity(settings);
        }
        catch (Exception ex) when (Swallow(ex))
        {
            return null;
        }
    }

    public void RefreshStarted(TokenRequestSettings settings, DateTimeOffset expiresAt) =>
        Guard(() => Log.BackgroundRefreshStarted(_logger, settings.ClientId, settings.DisplayName, expiresAt));

    public void TokenRejected(TokenRequestSettings settings) =>
        Guard(() => Log.TokenRejected(_logger, settings.ClientId, settings.DisplayName));

    public void TokenAcquired(TokenRequestSettings settings, AccessToken token, DateTimeOffset acquiredAt, Activity? activity, TimeSpan duration)
    {
        Guard(() => Log.TokenAcquired(
            _logger,
            settings.ClientId,
            settings.Username is null ? string.Empty : $" acting for user '{settings.Username}'",
            settings.DisplayName,
            settings.GrantType,
            settings.DisplayEndpoint,
            token.ExpiresAt,
            token.ExpiresAt - acquiredAt));
        Guard(() => _metrics.RecordTokenRequest(settings, duration, failure: null));
        Guard(() => RapidSosAuthMetrics.StopTokenRequestActivity(activity, token.ExpiresAt, failure: null));
    }

    /// <summary>
    /// A failed token request, logged with exactly what happens next: while a valid token exists, when the refresh
    /// is tried again by itself; otherwise whether callers fail at once or wait, and until when.
    /// </summary>
    public void TokenRequestFailed(TokenRequestSettings settings, TokenFailure failure, DateTimeOffset now, DateTimeOffset? currentExpiresAt, Activity? activity, TimeSpan duration)
    {
        var exception = failure.Exception;
        if (currentExpiresAt is { } expiresAt)
        {
            Guard(() => _metrics.RecordRefreshFailure(settings));
            Guard(() => Log.BackgroundRefreshFailed(_logger, settings.ClientId, settings.DisplayName, failure.Attempts, expiresAt, failure.NextAttemptAt, failure.NextAttemptAt - now, exception));
        }
        else
        {
            Guard(() => Log.TokenRequestFailed(_logger, settings.ClientId, settings.DisplayName, failure.Attempts, DescribeNext(failure, now), exception));
        }

        Guard(() => _metrics.RecordTokenRequest(settings, duration, exception));
        Guard(() => RapidSosAuthMetrics.StopTokenRequestActivity(activity, expiresAt: null, exception));
    }

    /// <summary>A token another instance fetched was taken from the shared store: no token request went out from here.</summary>
    public void TokenShared(TokenRequestSettings settings, AccessToken token, Activity? activity)
    {
        Guard(() => Log.SharedTokenAdopted(
            _logger,
            settings.ClientId,
            settings.Username is null ? string.Empty : $" acting for user '{settings.Username}'",
            settings.DisplayName,
            token.ExpiresAt));
        Guard(() => _metrics.RecordSharedToken(settings));
        Guard(() =>
        {
            activity?.SetTag("rapidsos.token.shared", true);
            RapidSosAuthMetrics.StopTokenRequestActivity(activity, token.ExpiresAt, failure: null);
        });
    }

    public void SharedStoreError(Exception error) => Guard(() => _metrics.RecordSharedStoreError(error));

    public void SharedStoreUnavailable(Exception error) =>
        Guard(() => Log.SharedStoreUnavailable(_logger, error is OperationCanceledException or TimeoutException ? "no answer in time" : error.GetType().Name));

    public void SharedStoreAvailable() => Guard(() => Log.SharedStoreAvailable(_logger));

    public void SharedValueUnreadable(TokenRequestSettings settings) =>
        Guard(() => Log.SharedValueUnreadable(_logger, settings.ClientId, settings.DisplayName));

    public void SharedWaitGaveUp(TokenRequestSettings settings, TimeSpan waited) =>
        Guard(() => Log.SharedWaitGaveUp(_logger, settings.ClientId, settings.DisplayName, waited));

    /// <summary>A request ended because its container was disposed: only its activity is closed, nothing is an error.</summary>
    public void TokenRequestAbandoned(Activity? activity) => Guard(() => activity?.Dispose());

    public void ReplacementsHeldBack(TokenRequestSettings settings, int strikes, DateTimeOffset until, TimeSpan delay) =>
        Guard(() => Log.ReplacementsHeldBack(_logger, settings.ClientId, settings.DisplayName, strikes, until, delay));

    public void CredentialsChanged(string registration) => Guard(() => Log.CredentialsChanged(_logger, RegistrationName.Display(registration)));

    public void RetryingAfterUnauthorized(string registration, HttpRequestMessage request)
    {
        Guard(() => Log.RetryingAfterUnauthorized(_logger, request.Method, OriginOf(request), request.RequestUri?.AbsolutePath ?? string.Empty));
        Guard(() => _metrics.RecordUnauthorizedRetry(RegistrationName.Display(registration)));
    }

    public void UnauthorizedAfterRetry(HttpRequestMessage request) =>
        Guard(() => Log.UnauthorizedAfterRetry(_logger, request.Method, OriginOf(request), request.RequestUri?.AbsolutePath ?? string.Empty));

    public void UnauthorizedNotRetried(HttpRequestMessage request) =>
        Guard(() => Log.UnauthorizedNotRetried(_logger, request.Method, OriginOf(request), request.RequestUri?.AbsolutePath ?? string.Empty));

    /// <summary>Runs for every request with a stream body: the arguments are built only when Debug is on.</summary>
    public void BufferingRequestContent(HttpRequestMessage request) =>
        Guard(() =>
        {
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                Log.BufferingRequestContent(_logger, request.Method, OriginOf(request), request.RequestUri?.AbsolutePath ?? string.Empty, request.Content?.GetType().Name ?? "none");
            }
        });

    /// <summary>Scheme, host and port only: <see cref="UriPartial.Authority"/> would include the request URI's user information.</summary>
    internal static string OriginOf(HttpRequestMessage request) =>
        request.RequestUri is { IsAbsoluteUri: true } uri ? uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped) : "(no URI)";

    private static string DescribeNext(TokenFailure failure, DateTimeOffset now)
    {
        var wait = failure.NextAttemptAt - now;
        if (wait <= TimeSpan.Zero)
        {
            return "the next caller sends a new token request at once";
        }

        var at = $"{failure.NextAttemptAt.ToString("O", CultureInfo.InvariantCulture)} (in {wait.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s)";
        return failure.FailsCallersAtOnce
            ? $"no token request is sent before {at}; callers fail at once with this error until then"
            : $"callers wait for the next token request, sent at {at}";
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CountCacheHit(string registration)
    {
        try
        {
            _metrics.CacheHits.Add(1, new KeyValuePair<string, object?>("rapidsos.registration", RegistrationName.Display(registration)));
        }
        catch (Exception ex) when (Swallow(ex))
        {
        }
    }

    private static void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (Swallow(ex))
        {
        }
    }

    // A broken log sink or listener is not the caller's problem; there is nowhere safe left to report it.
    private static bool Swallow(Exception ex) => ex is not null;
}
