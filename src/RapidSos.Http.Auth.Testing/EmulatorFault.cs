using System.Globalization;
using RapidSos.Http.Auth.Testing.Internal;

namespace RapidSos.Http.Auth.Testing;

/// <summary>
/// A misbehaviour of the emulated gateway, injected in place of the normal answer to one request with
/// <see cref="RapidSosGatewayEmulator.EnqueueFault(EmulatorFault)"/>, <see cref="RapidSosGatewayEmulator.EnqueueApiFault(EmulatorFault)"/>
/// or a fault rule.
/// </summary>
/// <remarks>
/// Instances are immutable and may be enqueued any number of times, from any thread. A fault replaces the whole
/// answer, whatever the request: the credentials and the token it carries are not checked, and no token is issued.
/// </remarks>
public sealed class EmulatorFault
{
    private const string JsonContentType = "application/json";
    private const string RetryAfterHeader = "Retry-After";

    private EmulatorFault(FaultKind kind, GatewayResponse? response, TimeSpan duration, TimeSpan latency, string description)
    {
        Kind = kind;
        Response = response;
        Duration = duration;
        Latency = latency;
        Description = description;
    }

    internal FaultKind Kind { get; }

    /// <summary>Gets the canned answer of a <see cref="FaultKind.Respond"/> fault.</summary>
    internal GatewayResponse? Response { get; }

    /// <summary>Gets how long a <see cref="FaultKind.Stall"/> fault waits before answering normally.</summary>
    internal TimeSpan Duration { get; }

    /// <summary>Gets the real delay before the fault takes effect.</summary>
    internal TimeSpan Latency { get; }

    private string Description { get; }

    /// <summary>Answers with any status code, body and content type.</summary>
    /// <param name="status">The HTTP status code, 200 to 599.</param>
    /// <param name="body">The body, sent as UTF-8; <see langword="null"/> for none.</param>
    /// <param name="contentType">The <c>Content-Type</c> of the body. The default is <c>application/json</c>.</param>
    /// <returns>The fault.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="status"/> is not between 200 and 599.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="contentType"/> is <see langword="null"/>.</exception>
    public static EmulatorFault Status(int status, string? body, string contentType = JsonContentType)
    {
        ValidateStatus(status);
        ArgumentNullException.ThrowIfNull(contentType);
        var response = body is null
            ? GatewayResponse.Create(status, null, [])
            : GatewayResponse.Create(status, contentType, ResponseBodies.Utf8(body));
        return Respond(response, $"Status({status.ToString(CultureInfo.InvariantCulture)})");
    }

    /// <summary>Answers <c>{"detail":"..."}</c>, the gateway's documented error shape for 400, 404 and 500.</summary>
    /// <param name="status">The HTTP status code, 200 to 599.</param>
    /// <param name="detail">The text of the <c>detail</c> field.</param>
    /// <returns>The fault.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="status"/> is not between 200 and 599.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="detail"/> is <see langword="null"/>.</exception>
    public static EmulatorFault Detail(int status, string detail)
    {
        ValidateStatus(status);
        ArgumentNullException.ThrowIfNull(detail);
        return Respond(GatewayResponse.Json(status, ResponseBodies.Detail(detail)), $"Detail({status.ToString(CultureInfo.InvariantCulture)})");
    }

    /// <summary>Answers 401 <c>{"ErrorCode":"invalid_client","Error":"Client credentials are invalid"}</c>, as the gateway does for a bad client id or secret.</summary>
    /// <returns>The fault.</returns>
    public static EmulatorFault InvalidClient() => Respond(GatewayResponse.InvalidClient, "InvalidClient()");

    /// <summary>Answers 429 <c>{"detail":"Too many requests. Please try again later"}</c>, as the gateway's rate limiter does.</summary>
    /// <param name="retryAfter">
    /// The delay sent in a <c>Retry-After</c> header, rounded up to whole seconds; <see langword="null"/> (the default) sends no such header.
    /// </param>
    /// <returns>The fault.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="retryAfter"/> is negative.</exception>
    public static EmulatorFault TooManyRequests(TimeSpan? retryAfter = null)
    {
        KeyValuePair<string, string>[]? headers = null;
        if (retryAfter is { } delay)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero, nameof(retryAfter));
            headers = [new(RetryAfterHeader, RetryAfterSeconds(delay))];
        }

        return Respond(GatewayResponse.Json(429, ResponseBodies.TooManyRequests, headers), "TooManyRequests()");
    }

    /// <summary>
    /// Answers an Apigee fault body, <c>{"fault":{"faultstring":"...","detail":{"errorcode":"..."}}}</c>, the shape of the
    /// gateway's own policy errors (for example a spike-arrest or quota violation).
    /// </summary>
    /// <param name="status">The HTTP status code, 200 to 599.</param>
    /// <param name="faultstring">The <c>faultstring</c>, for example <c>Spike arrest violation</c>.</param>
    /// <param name="errorcode">The <c>errorcode</c>, for example <c>policies.ratelimit.SpikeArrestViolation</c>.</param>
    /// <returns>The fault.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="status"/> is not between 200 and 599.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="faultstring"/> or <paramref name="errorcode"/> is <see langword="null"/>.</exception>
    public static EmulatorFault Fault(int status, string faultstring, string errorcode)
    {
        ValidateStatus(status);
        ArgumentNullException.ThrowIfNull(faultstring);
        ArgumentNullException.ThrowIfNull(errorcode);
        return Respond(GatewayResponse.Json(status, ResponseBodies.ApigeeFault(faultstring, errorcode)), $"Fault({status.ToString(CultureInfo.InvariantCulture)}, {errorcode})");
    }

    /// <summary>Answers an RFC 6749 section 5.2 error, <c>{"error":"...","error_description":"..."}</c>.</summary>
    /// <param name="status">The HTTP status code, 200 to 599.</param>
    /// <param name="error">The <c>error</c> code, for example <c>invalid_grant</c>.</param>
    /// <param name="description">The <c>error_description</c>; <see langword="null"/> (the default) leaves the field out.</param>
    /// <returns>The fault.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="status"/> is not between 200 and 599.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="error"/> is <see langword="null"/>.</exception>
    public static EmulatorFault OAuthError(int status, string error, string? description = null)
    {
        ValidateStatus(status);
        ArgumentNullException.ThrowIfNull(error);
        return Respond(GatewayResponse.Json(status, ResponseBodies.OAuthError(error, description)), $"OAuthError({status.ToString(CultureInfo.InvariantCulture)}, {error})");
    }

    /// <summary>Answers an HTML error page such as a reverse proxy or load balancer sends (typically 502 or 503), with <c>Content-Type: text/html</c>.</summary>
    /// <param name="status">The HTTP status code, 200 to 599.</param>
    /// <returns>The fault.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="status"/> is not between 200 and 599.</exception>
    public static EmulatorFault Html(int status)
    {
        ValidateStatus(status);
        return Respond(GatewayResponse.Create(status, "text/html; charset=utf-8", ResponseBodies.HtmlPage(status)), $"Html({status.ToString(CultureInfo.InvariantCulture)})");
    }

    /// <summary>Answers the status code with an empty body and no <c>Content-Type</c>.</summary>
    /// <param name="status">The HTTP status code, 200 to 599.</param>
    /// <returns>The fault.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="status"/> is not between 200 and 599.</exception>
    public static EmulatorFault Empty(int status)
    {
        ValidateStatus(status);
        return Respond(GatewayResponse.Create(status, null, []), $"Empty({status.ToString(CultureInfo.InvariantCulture)})");
    }

    /// <summary>
    /// Answers with a redirect to <paramref name="location"/>, as a misconfigured proxy or a hostile intermediary
    /// might: for testing that credentials and tokens do not follow it.
    /// </summary>
    /// <param name="status">A redirect status: 301, 302, 303, 307 or 308.</param>
    /// <param name="location">Where the redirect points.</param>
    /// <returns>The fault.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="status"/> is not a 3xx status.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="location"/> is <see langword="null"/>.</exception>
    public static EmulatorFault Redirect(int status, Uri location)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 300);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 399);
        ArgumentNullException.ThrowIfNull(location);
        return Respond(
            GatewayResponse.Create(status, null, [], [new("Location", location.OriginalString)]),
            $"Redirect({status.ToString(CultureInfo.InvariantCulture)}, {location.OriginalString})");
    }

    /// <summary>Answers 200 with <c>Content-Type: application/json</c> and a truncated JSON document.</summary>
    /// <returns>The fault.</returns>
    public static EmulatorFault MalformedJson() => Respond(GatewayResponse.Json(200, ResponseBodies.Truncated), "MalformedJson()");

    /// <summary>
    /// Drops the connection without answering. Over Kestrel the connection is aborted; the in-memory handler throws
    /// what <see cref="SocketsHttpHandler"/> then throws, so in both forms the request fails with an
    /// <see cref="HttpRequestException"/> over an <see cref="IOException"/> over a <see cref="System.Net.Sockets.SocketException"/>
    /// whose error is <see cref="System.Net.Sockets.SocketError.ConnectionReset"/>.
    /// </summary>
    /// <returns>The fault.</returns>
    public static EmulatorFault ConnectionReset() => new(FaultKind.ConnectionReset, null, TimeSpan.Zero, TimeSpan.Zero, "ConnectionReset()");

    /// <summary>
    /// Waits, then answers the request normally. The wait is real time (not the emulator's <see cref="TimeProvider"/>)
    /// and ends early, without an answer, when the client cancels the request or the emulator is disposed.
    /// </summary>
    /// <param name="duration">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits until the request is cancelled.</param>
    /// <returns>The fault.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="duration"/> is negative and not <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    public static EmulatorFault Stall(TimeSpan duration)
    {
        ValidateDelay(duration, nameof(duration), allowInfinite: true);
        return new(FaultKind.Stall, null, duration, TimeSpan.Zero, duration == Timeout.InfiniteTimeSpan ? "Stall(Infinite)" : $"Stall({duration})");
    }

    /// <summary>Returns a copy of this fault that takes effect only after an extra real-time delay, which the client can cancel.</summary>
    /// <param name="latency">The delay, zero or more.</param>
    /// <returns>The new fault; this instance is unchanged.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="latency"/> is negative.</exception>
    public EmulatorFault WithLatency(TimeSpan latency)
    {
        ValidateDelay(latency, nameof(latency), allowInfinite: false);
        return new(Kind, Response, Duration, latency, Description);
    }

    /// <summary>
    /// Returns a copy of this fault whose answer also carries a <c>Retry-After</c> header, as a gateway or proxy may send
    /// with 503 or any other status; it replaces a <c>Retry-After</c> the answer had, such as
    /// <see cref="TooManyRequests(TimeSpan?)"/>'s.
    /// </summary>
    /// <param name="retryAfter">The delay, zero or more, sent rounded up to whole seconds.</param>
    /// <returns>The new fault; this instance is unchanged.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="retryAfter"/> is negative.</exception>
    /// <exception cref="InvalidOperationException">This fault sends no answer: <see cref="ConnectionReset"/> or <see cref="Stall"/>.</exception>
    public EmulatorFault WithRetryAfter(TimeSpan retryAfter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retryAfter, TimeSpan.Zero);
        if (Kind != FaultKind.Respond || Response is null)
        {
            throw new InvalidOperationException($"{Description} sends no answer, so it cannot carry a Retry-After header.");
        }

        var seconds = RetryAfterSeconds(retryAfter);
        KeyValuePair<string, string>[] headers =
        [
            .. Response.Headers.Where(static h => !string.Equals(h.Key, RetryAfterHeader, StringComparison.OrdinalIgnoreCase)),
            new(RetryAfterHeader, seconds),
        ];
        var response = GatewayResponse.Create(Response.StatusCode, Response.ContentType, Response.Body, headers);
        return new(Kind, response, Duration, Latency, $"{Description}.WithRetryAfter({seconds}s)");
    }

    /// <summary>Returns a short description of the fault, such as <c>TooManyRequests()</c>, for test output.</summary>
    /// <returns>The description.</returns>
    public override string ToString() =>
        Latency > TimeSpan.Zero ? $"{Description}.WithLatency({Latency})" : Description;

    private static string RetryAfterSeconds(TimeSpan delay) =>
        ((long)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private static EmulatorFault Respond(GatewayResponse response, string description) =>
        new(FaultKind.Respond, response, TimeSpan.Zero, TimeSpan.Zero, description);

    private static void ValidateStatus(int status, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(status))] string? paramName = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 200, paramName);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 599, paramName);
    }

    private static void ValidateDelay(TimeSpan value, string paramName, bool allowInfinite)
    {
        if (value < TimeSpan.Zero && !(allowInfinite && value == Timeout.InfiniteTimeSpan))
        {
            throw new ArgumentOutOfRangeException(paramName, value, "The delay must not be negative.");
        }
    }
}
