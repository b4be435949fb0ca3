using System.Net;
using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth;

/// <summary>
/// Tells a resilience pipeline around <see cref="BearerTokenHandler"/> (Microsoft.Extensions.Http.Resilience, Polly)
/// which failures are worth another attempt, without a dependency on either.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="RapidSosAuthenticationException"/> derives from <see cref="HttpRequestException"/>, so the standard
/// resilience handler's own predicate retries every token failure, refused credentials included. Use this one instead;
/// for every other outcome it answers as <c>HttpClientResiliencePredicates.IsTransient</c> does:
/// </para>
/// <code>
/// services.AddHttpClient("rapidsos")
///     .AddRapidSosBearerToken()
///     .AddStandardResilienceHandler(o => o.Retry.ShouldHandle =
///         args => ValueTask.FromResult(RapidSosResilience.IsTransient(args.Outcome.Exception, args.Outcome.Result)));
/// </code>
/// </remarks>
public static class RapidSosResilience
{
    /// <summary>How deep <see cref="IsTransient"/> looks through inner exceptions for a RapidSOS token failure.</summary>
    private const int MaxDepth = 8;

    /// <summary>
    /// Determines whether the outcome of one attempt is a transient failure: whether another attempt may succeed.
    /// </summary>
    /// <param name="exception">What the attempt threw (Polly's <c>Outcome.Exception</c>), or <see langword="null"/>.</param>
    /// <param name="response">What the attempt returned (Polly's <c>Outcome.Result</c>), or <see langword="null"/>; read only when <paramref name="exception"/> is <see langword="null"/>.</param>
    /// <returns>
    /// <para><see langword="true"/> for:</para>
    /// <list type="bullet">
    /// <item><description>a token failure that may pass: the token endpoint could not be reached or timed out, answered 5xx,
    /// 408 or 429, or gave an answer that is not a usable token;</description></item>
    /// <item><description>any other <see cref="HttpRequestException"/> (a transport failure), a Polly
    /// <c>TimeoutRejectedException</c> (an attempt timeout) or an <see cref="HttpClient.Timeout"/>;</description></item>
    /// <item><description>a response with a status of 500 or more, 408 or 429.</description></item>
    /// </list>
    /// <para><see langword="false"/> for:</para>
    /// <list type="bullet">
    /// <item><description>refused credentials: a <see cref="RapidSosAuthenticationException"/> whose
    /// <see cref="HttpRequestException.StatusCode"/> is 400, 401, 403 or another 4xx but 408 and 429, which no
    /// retry can fix;</description></item>
    /// <item><description>a <see cref="RapidSosAuthenticationException"/> handed to a caller while the token provider's
    /// backoff window was open (see <see cref="RapidSosAuthenticationException.RetryAfter"/>): the provider sent no
    /// token request for it, and another attempt before the window closes fails the same way at once;</description></item>
    /// <item><description>any other exception (a caller's cancellation, a request to an origin the registration
    /// does not allow, invalid options), any other response (a 401 after the handler's one resend included), and
    /// an outcome with neither.</description></item>
    /// </list>
    /// </returns>
    /// <remarks>
    /// A <see cref="RapidSosAuthenticationException"/> is found among the inner exceptions too, so a handler or client
    /// library that wraps it does not hide what it says.
    /// </remarks>
    public static bool IsTransient(Exception? exception, HttpResponseMessage? response)
    {
        if (exception is not null)
        {
            return IsTransientException(exception);
        }

        return response is not null && IsTransientStatus(response.StatusCode);
    }

    private static bool IsTransientException(Exception exception)
    {
        var e = exception;
        for (var depth = 0; e is not null && depth < MaxDepth; depth++, e = e.InnerException)
        {
            if (e is RapidSosAuthenticationException token)
            {
                return !token.FailedFast && TokenRetryRules.Classify(token) != TokenFailureKind.Refused;
            }
        }

        return exception switch
        {
            HttpRequestException => true,
            OperationCanceledException { InnerException: TimeoutException } => true,
            _ => IsPollyTimeout(exception.GetType()),
        };
    }

    private static bool IsTransientStatus(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    /// <summary>Polly's <c>TimeoutRejectedException</c>, known by name: the core has no Polly dependency.</summary>
    private static bool IsPollyTimeout(Type? type)
    {
        for (; type is not null && type != typeof(Exception); type = type.BaseType)
        {
            if (string.Equals(type.FullName, "Polly.Timeout.TimeoutRejectedException", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
