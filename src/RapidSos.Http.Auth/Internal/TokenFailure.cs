namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// The streak of failed token requests of one lifecycle: what the last one said, how many failed in a row, and
/// when the next may go out. Cleared by the next success.
/// </summary>
/// <param name="Exception">The last failure, as callers get it (with <see cref="RapidSosAuthenticationException.RetryAfter"/>).</param>
/// <param name="Kind">What it says about the next request.</param>
/// <param name="Attempts">Failed requests in a row.</param>
/// <param name="NextAttemptAt">No token request goes out before this (local clock).</param>
/// <param name="WhileTokenValid">Whether a valid token still carried the callers (a failed refresh ahead).</param>
internal sealed record TokenFailure(RapidSosAuthenticationException Exception, TokenFailureKind Kind, int Attempts, DateTimeOffset NextAttemptAt, bool WhileTokenValid)
{
    /// <summary>Whether callers fail at once instead of waiting: waiting for the next attempt cannot help them.</summary>
    public bool FailsCallersAtOnce => Kind is TokenFailureKind.Refused or TokenFailureKind.RateLimited;

    public bool IsWindowOpen(DateTimeOffset now) => now < NextAttemptAt;

    /// <summary>The exception for a caller who arrives inside the window: the same failure, saying when to try again.</summary>
    public RapidSosAuthenticationException ForCallerAt(DateTimeOffset now)
    {
        var wait = NextAttemptAt - now;
        return Exception.WithRetryAfter(
            wait,
            $"No new token request is sent for these credentials before {NextAttemptAt:O} (in {wait.TotalSeconds:0.###} s); until then callers fail at once.",
            failedFast: true);
    }
}
