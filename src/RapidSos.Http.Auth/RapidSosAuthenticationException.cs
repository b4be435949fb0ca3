using System.Net;

namespace RapidSos.Http.Auth;

/// <summary>
/// A RapidSOS access token could not be obtained: the token endpoint answered with an error, could not be
/// reached, timed out, or returned a response that is not a usable token. Derives from
/// <see cref="HttpRequestException"/>, so callers that already catch that keep working.
/// </summary>
/// <remarks>
/// The message names the token endpoint, the status and the gateway's own explanation; it never contains the
/// client secret, the password or a token.
/// </remarks>
public class RapidSosAuthenticationException : HttpRequestException
{
    /// <summary>Creates an exception with a default message.</summary>
    public RapidSosAuthenticationException()
        : this("A RapidSOS access token could not be obtained.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public RapidSosAuthenticationException(string message)
        : this(message, innerException: null)
    {
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause, such as a network failure.</param>
    public RapidSosAuthenticationException(string message, Exception? innerException)
        : this(message, innerException, statusCode: null, detail: null, tokenEndpoint: null)
    {
    }

    /// <summary>Creates an exception with everything known about the failed token request.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause, such as a network failure.</param>
    /// <param name="statusCode">The token endpoint's HTTP status, when it answered.</param>
    /// <param name="detail">The gateway's own explanation, when it gave one.</param>
    /// <param name="tokenEndpoint">The token endpoint that was called.</param>
    public RapidSosAuthenticationException(
        string message,
        Exception? innerException,
        HttpStatusCode? statusCode,
        string? detail,
        Uri? tokenEndpoint)
        : base(message, innerException, statusCode)
    {
        Detail = detail;
        TokenEndpoint = tokenEndpoint;
    }

    /// <summary>
    /// Gets the gateway's own explanation (its <c>detail</c>, <c>Error</c>, <c>fault.faultstring</c> or
    /// <c>error_description</c>), or <see langword="null"/> when it gave none.
    /// </summary>
    public string? Detail { get; }

    /// <summary>
    /// Gets the token endpoint that was called, without any user information or query, or
    /// <see langword="null"/> when unknown.
    /// </summary>
    public Uri? TokenEndpoint { get; }

    /// <summary>
    /// Gets how long to wait before a new token request can be made: the gateway's <c>Retry-After</c> on a 429 or
    /// 503, or, for an exception the token provider hands to callers, the time until its next token request for
    /// these credentials may go out (<see cref="TimeSpan.Zero"/>: at once). <see langword="null"/> when unknown.
    /// </summary>
    /// <remarks>
    /// While no valid token exists and the gateway refuses the credentials or rate-limits them, callers fail at
    /// once with this exception instead of sending token requests; retrying before <see cref="RetryAfter"/> has
    /// passed only fails again.
    /// </remarks>
    public TimeSpan? RetryAfter { get; internal init; }

    /// <summary>
    /// Gets a value indicating whether this exception was handed to a caller inside a backoff window, without a token
    /// request of its own: trying again before <see cref="RetryAfter"/> can only fail the same way, at once.
    /// </summary>
    internal bool FailedFast { get; private init; }

    /// <summary>A copy for callers, saying when the next token request may go out.</summary>
    /// <param name="retryAfter">The time until the next token request may go out.</param>
    /// <param name="note">Appended to the message; the copy then has this exception as its inner one.</param>
    /// <param name="failedFast">Whether the copy goes to a caller who made no token request (<see cref="FailedFast"/>).</param>
    internal RapidSosAuthenticationException WithRetryAfter(TimeSpan retryAfter, string? note = null, bool failedFast = false) =>
        new(note is null ? Message : $"{Message} {note}", note is null ? InnerException : this, StatusCode, Detail, TokenEndpoint)
        {
            RetryAfter = retryAfter,
            FailedFast = failedFast,
        };
}
