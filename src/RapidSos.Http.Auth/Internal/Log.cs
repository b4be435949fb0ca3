using Microsoft.Extensions.Logging;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Every message the library logs, with stable event ids. None takes a token, a secret or a password.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information,
        "Acquired a RapidSOS access token for client '{ClientId}'{ForUser} (registration '{Registration}', {GrantType} grant) from {TokenEndpoint}; it expires at {ExpiresAt:O}, in {Lifetime}.")]
    public static partial void TokenAcquired(ILogger logger, string clientId, string forUser, string registration, RapidSosGrantType grantType, Uri tokenEndpoint, DateTimeOffset expiresAt, TimeSpan lifetime);

    [LoggerMessage(2, LogLevel.Error,
        "A RapidSOS access token could not be obtained for client '{ClientId}' (registration '{Registration}', attempt {Attempt}); {NextStep}.")]
    public static partial void TokenRequestFailed(ILogger logger, string clientId, string registration, int attempt, string nextStep, Exception exception);

    [LoggerMessage(3, LogLevel.Debug,
        "Refreshing the RapidSOS access token for client '{ClientId}' (registration '{Registration}') ahead of expiry at {ExpiresAt:O}; callers keep the current token meanwhile.")]
    public static partial void BackgroundRefreshStarted(ILogger logger, string clientId, string registration, DateTimeOffset expiresAt);

    [LoggerMessage(4, LogLevel.Warning,
        "Refreshing the RapidSOS access token for client '{ClientId}' (registration '{Registration}') failed (attempt {Attempt}); the current token stays in use until {ExpiresAt:O}, and the refresh is tried again by itself at {RetryAt:O}, in {RetryDelay}, until it succeeds or the token expires.")]
    public static partial void BackgroundRefreshFailed(ILogger logger, string clientId, string registration, int attempt, DateTimeOffset expiresAt, DateTimeOffset retryAt, TimeSpan retryDelay, Exception exception);

    [LoggerMessage(5, LogLevel.Information,
        "The RapidSOS API answered 401 to {Method} {Origin}{Path}; the token was refreshed and the request is sent once more.")]
    public static partial void RetryingAfterUnauthorized(ILogger logger, HttpMethod method, string origin, string path);

    [LoggerMessage(6, LogLevel.Warning,
        "The RapidSOS API answered 401 to {Method} {Origin}{Path} again with a newly acquired token; the response goes back to the caller.")]
    public static partial void UnauthorizedAfterRetry(ILogger logger, HttpMethod method, string origin, string path);

    [LoggerMessage(7, LogLevel.Debug,
        "The RapidSOS access token for client '{ClientId}' (registration '{Registration}') was rejected by the API; a new one is requested.")]
    public static partial void TokenRejected(ILogger logger, string clientId, string registration);

    [LoggerMessage(8, LogLevel.Information,
        "The options of RapidSOS registration '{Registration}' changed to other credentials or endpoint; the cached token is no longer used for it.")]
    public static partial void CredentialsChanged(ILogger logger, string registration);

    [LoggerMessage(9, LogLevel.Debug,
        "The request body of {Method} {Origin}{Path} ({ContentType}) cannot be sent twice as it is; it is buffered so that a 401 can be retried with the body intact.")]
    public static partial void BufferingRequestContent(ILogger logger, HttpMethod method, string origin, string path, string contentType);

    [LoggerMessage(10, LogLevel.Warning,
        "The RapidSOS API rejected a token fetched because of a 401 for client '{ClientId}' (registration '{Registration}') again, {Strikes} time(s) in a row: it is rejecting the request, not the token. Until {Until:O} (in {Delay}) a 401 is returned to the caller as it is, without a new token request.")]
    public static partial void ReplacementsHeldBack(ILogger logger, string clientId, string registration, int strikes, DateTimeOffset until, TimeSpan delay);

    [LoggerMessage(11, LogLevel.Debug,
        "The RapidSOS API answered 401 to {Method} {Origin}{Path}; new tokens are held back because the API rejected fresh ones, so the response goes back to the caller as it is.")]
    public static partial void UnauthorizedNotRetried(ILogger logger, HttpMethod method, string origin, string path);

    [LoggerMessage(12, LogLevel.Debug,
        "Using the RapidSOS access token for client '{ClientId}'{ForUser} (registration '{Registration}') that another instance of the fleet fetched; it expires at {ExpiresAt:O}.")]
    public static partial void SharedTokenAdopted(ILogger logger, string clientId, string forUser, string registration, DateTimeOffset expiresAt);

    [LoggerMessage(13, LogLevel.Warning,
        "The shared RapidSOS token store did not answer ({ErrorType}); this instance goes on alone, fetching its own tokens, until it answers again. This is logged once per outage; the errors are counted in rapidsos.auth.shared_store.errors.")]
    public static partial void SharedStoreUnavailable(ILogger logger, string errorType);

    [LoggerMessage(14, LogLevel.Information,
        "The shared RapidSOS token store answers again; this instance shares tokens with the fleet once more.")]
    public static partial void SharedStoreAvailable(ILogger logger);

    [LoggerMessage(15, LogLevel.Debug,
        "A value in the shared RapidSOS token store under the key of client '{ClientId}' (registration '{Registration}') is not one this instance can open (another secret, another version, tampered, or not the library's); it is treated as a miss.")]
    public static partial void SharedValueUnreadable(ILogger logger, string clientId, string registration);

    [LoggerMessage(16, LogLevel.Warning,
        "No other instance of the fleet delivered a RapidSOS token for client '{ClientId}' (registration '{Registration}') within {Waited}; this instance requests its own.")]
    public static partial void SharedWaitGaveUp(ILogger logger, string clientId, string registration, TimeSpan waited);
}
