using System.Net;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// When the next token request may go out after a failure, as one pure function of what is known: how many
/// requests in a row failed, what the last one said, the gateway's <c>Retry-After</c> and how long the current
/// token still lives. The lifecycle only applies the answer. Delays carry a little jitter (an input here, so the
/// rules can be tested case by case) so that a fleet of instances does not retry in step.
/// </summary>
internal static class TokenRetryRules
{
    /// <summary>A <c>Retry-After</c> beyond this is not honoured in full: an emergency service keeps trying.</summary>
    internal static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    /// <summary>The longest pause between token requests while no valid token exists.</summary>
    internal static readonly TimeSpan MaxForegroundDelay = TimeSpan.FromSeconds(5);

    /// <summary>The longest pause between background refreshes while the current token still works.</summary>
    internal static readonly TimeSpan MaxBackgroundDelay = TimeSpan.FromSeconds(30);

    /// <summary>A background retry never comes sooner than this, however little time the token has left.</summary>
    internal static readonly TimeSpan MinBackgroundDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest pause between 401-driven replacements once the API was seen rejecting fresh tokens.</summary>
    internal static readonly TimeSpan MaxReplacementDelay = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan s_firstTransientDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long after a failed token request the next one may start.
    /// </summary>
    /// <param name="attempt">How many token requests in a row have failed, this one included (1 or more).</param>
    /// <param name="kind">What the last failure says.</param>
    /// <param name="retryAfter">The gateway's <c>Retry-After</c>, when it sent one.</param>
    /// <param name="timeLeft">How long the current token still lives, or <see langword="null"/> when no valid token exists.</param>
    /// <param name="jitter">A number in [0, 1): spreads the delay by up to ±10 % (a <c>Retry-After</c> only upwards, by up to 10 %).</param>
    /// <returns>The delay; <see cref="TimeSpan.Zero"/> means at once.</returns>
    public static TimeSpan NextAttemptDelay(int attempt, TokenFailureKind kind, TimeSpan? retryAfter, TimeSpan? timeLeft, double jitter)
    {
        attempt = Math.Max(attempt, 1);
        var honoured = retryAfter is { } ra && ra > TimeSpan.Zero ? Min(ra, MaxRetryAfter) : TimeSpan.Zero;

        if (timeLeft is { } left && left > TimeSpan.Zero)
        {
            // A valid token carries the callers: back off as a background refresh, but never wait past half the
            // time the token has left, since the point of refreshing ahead is to succeed before it runs out.
            // A Retry-After is honoured in full here: the callers are not waiting.
            var delay = Spread(Doubling(TimeSpan.FromSeconds(1), attempt - 1, MaxBackgroundDelay), jitter);
            if (retryAfter is { } asked && asked > delay)
            {
                delay = Later(asked, jitter);
            }

            return Max(Min(delay, left / 2), MinBackgroundDelay);
        }

        return kind switch
        {
            TokenFailureKind.RateLimited => Later(honoured, jitter),
            TokenFailureKind.Refused => Spread(Doubling(TimeSpan.FromSeconds(1), attempt - 1, MaxForegroundDelay), jitter),

            // A single blip costs only the callers that shared the failed request: the next one goes out at once.
            _ => attempt == 1
                ? TimeSpan.Zero
                : Spread(Doubling(s_firstTransientDelay, attempt - 2, MaxForegroundDelay), jitter),
        };
    }

    /// <summary>
    /// How long 401-driven replacements are held back after the API rejected a token fetched because of a 401:
    /// 1 s, doubling to 30 s.
    /// </summary>
    /// <param name="strikes">How many resends in a row were rejected with a fresh token (1 or more).</param>
    /// <param name="jitter">A number in [0, 1): spreads the delay by up to ±10 %.</param>
    public static TimeSpan ReplacementDelay(int strikes, double jitter) =>
        Spread(Doubling(TimeSpan.FromSeconds(1), Math.Max(strikes, 1) - 1, MaxReplacementDelay), jitter);

    /// <summary>What a failed token request says about the next one.</summary>
    public static TokenFailureKind Classify(Exception failure)
    {
        if (failure is not HttpRequestException { StatusCode: { } status })
        {
            return TokenFailureKind.Transient;
        }

        if (status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable
            && failure is RapidSosAuthenticationException { RetryAfter: { } retryAfter }
            && retryAfter > TimeSpan.Zero)
        {
            return TokenFailureKind.RateLimited;
        }

        var code = (int)status;
        return code is >= 400 and < 500 && status is not (HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests)
            ? TokenFailureKind.Refused
            : TokenFailureKind.Transient;
    }

    private static TimeSpan Doubling(TimeSpan first, int doublings, TimeSpan cap) =>
        doublings >= 16 ? cap : Min(first * Math.Pow(2, doublings), cap);

    private static TimeSpan Spread(TimeSpan delay, double jitter) => delay * (0.9 + (0.2 * Clamp(jitter)));

    private static TimeSpan Later(TimeSpan delay, double jitter) => delay * (1 + (0.1 * Clamp(jitter)));

    private static double Clamp(double jitter) => double.IsFinite(jitter) ? Math.Clamp(jitter, 0, 1) : 0;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
