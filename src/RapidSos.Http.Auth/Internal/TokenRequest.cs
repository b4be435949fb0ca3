namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// One token request and every caller waiting for it. It may be scheduled (after a failure, the lifecycle's timer
/// sends it at <see cref="NotBefore"/>) or sent; the lifecycle decides, under its lock, who creates, starts and
/// completes it.
/// </summary>
internal sealed class TokenRequest
{
    private readonly TaskCompletionSource<AccessToken> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TokenRequest(TokenRequestReason reason, DateTimeOffset? notBefore)
    {
        Reason = reason;
        NotBefore = notBefore;
    }

    /// <summary>Why it is made: for the logs, and so a failed refresh ahead is told apart from a failed first fetch.</summary>
    public TokenRequestReason Reason { get; private set; }

    /// <summary>Sent synchronously on a caller's thread, so a synchronous waiter never needs the thread pool.</summary>
    public bool RunsOnCaller { get; private set; }

    /// <summary>When a scheduled request may be sent; <see langword="null"/> for one sent at once.</summary>
    public DateTimeOffset? NotBefore { get; }

    /// <summary>When it was sent (local clock), or <see langword="null"/> while it waits for <see cref="NotBefore"/>.</summary>
    public DateTimeOffset? SentAt { get; private set; }

    /// <summary>Whether a caller waits for it; a scheduled background retry nobody waits for dies with its token.</summary>
    public bool HasWaiters { get; private set; }

    public bool IsSent => SentAt is not null;

    /// <summary>Whether it was sent a second time because its first token expired before the response arrived.</summary>
    public bool WasResent { get; private set; }

    /// <summary>Called under the lifecycle's lock: the same waiters, a new send.</summary>
    public void MarkResent(DateTimeOffset now)
    {
        SentAt = now;
        WasResent = true;
    }

    public Task<AccessToken> Task => _completion.Task;

    /// <summary>Called under the lifecycle's lock, just before whoever starts it sends it.</summary>
    public TokenRequest MarkSent(DateTimeOffset now, bool onCaller, TokenRequestReason? reason = null)
    {
        SentAt = now;
        RunsOnCaller = onCaller;
        Reason = reason ?? Reason;
        return this;
    }

    /// <summary>Called under the lifecycle's lock.</summary>
    public TokenRequest Join()
    {
        HasWaiters = true;
        return this;
    }

    public void Complete(AccessToken token) => _completion.TrySetResult(token);

    public void Fail(Exception exception)
    {
        _completion.TrySetException(exception);

        // Every waiter may have given up (cancelled); the failure is logged, so mark it observed.
        _ = _completion.Task.Exception;
    }
}
