namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// A token in the cache with its life cycle: Fresh, then RefreshDue once the refresh-ahead window opens, then
/// Expired. Transitions are driven by a timer from the <see cref="TimeProvider"/>, so the per-request check is
/// one volatile read instead of a clock read.
/// </summary>
internal sealed class CachedToken
{
    public const int Fresh = 0;
    public const int RefreshDue = 1;
    public const int Expired = 2;

    private readonly TimeProvider _timeProvider;
    private readonly object _timerLock = new();
    private int _state;
    private int _refreshGate;
    private int _refreshFailures;
    private ITimer? _lifecycleTimer;
    private ITimer? _retryTimer;

    public CachedToken(AccessToken token, TokenCacheKey key, DateTimeOffset acquiredAt, TimeSpan lifetime, TimeSpan refreshBeforeExpiry, TimeProvider timeProvider)
    {
        Token = token;
        Key = key;
        AcquiredAt = acquiredAt;
        _timeProvider = timeProvider;

        // Short-lived tokens refresh once a fifth of their life remains, so a window longer than the lifetime
        // neither refreshes on every call nor leaves no time for the refresh to finish.
        var window = refreshBeforeExpiry <= TimeSpan.Zero
            ? TimeSpan.Zero
            : TimeSpan.FromTicks(Math.Min(refreshBeforeExpiry.Ticks, lifetime.Ticks / 5));
        RefreshAt = token.ExpiresAt - window;

        // Due times count from now, not from when the request was sent: the response took time to arrive.
        var now = timeProvider.GetUtcNow();
        TimeSpan dueTime;
        if (token.ExpiresAt <= now)
        {
            Volatile.Write(ref _state, Expired);
            return;
        }
        else if (window > TimeSpan.Zero && RefreshAt <= now)
        {
            Volatile.Write(ref _state, RefreshDue);
            dueTime = token.ExpiresAt - now;
        }
        else
        {
            dueTime = (window > TimeSpan.Zero ? RefreshAt : token.ExpiresAt) - now;
        }

        lock (_timerLock)
        {
            _lifecycleTimer = CreateTimer(static s => ((CachedToken)s!).OnLifecycleTimer(), dueTime);
        }
    }

    public AccessToken Token { get; }

    public TokenCacheKey Key { get; }

    public DateTimeOffset AcquiredAt { get; }

    public DateTimeOffset RefreshAt { get; }

    public int State => Volatile.Read(ref _state);

    public bool IsUsable => Volatile.Read(ref _state) != Expired;

    public int RefreshFailures => Volatile.Read(ref _refreshFailures);

    public bool Holds(AccessToken token) =>
        ReferenceEquals(Token, token) || string.Equals(Token.Value, token.Value, StringComparison.Ordinal);

    /// <summary>Claims the one background refresh of this token; false when one is running or backing off.</summary>
    public bool TryBeginRefresh() => Volatile.Read(ref _state) == RefreshDue && Interlocked.CompareExchange(ref _refreshGate, 1, 0) == 0;

    /// <summary>Records a failed background refresh and reopens the gate after <paramref name="delay"/>.</summary>
    public void RefreshFailed(TimeSpan delay)
    {
        Interlocked.Increment(ref _refreshFailures);
        lock (_timerLock)
        {
            if (Volatile.Read(ref _state) == Expired)
            {
                return;
            }

            _retryTimer?.Dispose();
            _retryTimer = CreateTimer(static s => ((CachedToken)s!).ReopenRefreshGate(), delay);
        }
    }

    /// <summary>Takes the token out of service for good (replaced, rejected, evicted or expired).</summary>
    public void Invalidate()
    {
        Volatile.Write(ref _state, Expired);
        lock (_timerLock)
        {
            _lifecycleTimer?.Dispose();
            _lifecycleTimer = null;
            _retryTimer?.Dispose();
            _retryTimer = null;
        }
    }

    public TimeSpan TimeLeft() => Token.ExpiresAt - _timeProvider.GetUtcNow();

    private void OnLifecycleTimer()
    {
        var remaining = Token.ExpiresAt - _timeProvider.GetUtcNow();
        // Compare-and-swap: an Invalidate() racing with this timer must win, never be undone.
        if (remaining > TimeSpan.Zero && Interlocked.CompareExchange(ref _state, RefreshDue, Fresh) == Fresh)
        {
            lock (_timerLock)
            {
                _lifecycleTimer?.Change(remaining, Timeout.InfiniteTimeSpan);
            }

            return;
        }

        if (remaining > TimeSpan.Zero)
        {
            // A timer may fire a little early; never declare a token expired before its time.
            lock (_timerLock)
            {
                _lifecycleTimer?.Change(remaining, Timeout.InfiniteTimeSpan);
            }

            return;
        }

        Invalidate();
    }

    private void ReopenRefreshGate()
    {
        lock (_timerLock)
        {
            _retryTimer?.Dispose();
            _retryTimer = null;
        }

        Volatile.Write(ref _refreshGate, 0);
    }

    private ITimer CreateTimer(TimerCallback callback, TimeSpan dueTime)
    {
        if (dueTime < TimeSpan.Zero)
        {
            dueTime = TimeSpan.Zero;
        }

        // The timer must not capture the ExecutionContext (AsyncLocals, the current Activity) of whichever
        // request happened to create the token.
        if (ExecutionContext.IsFlowSuppressed())
        {
            return _timeProvider.CreateTimer(callback, this, dueTime, Timeout.InfiniteTimeSpan);
        }

        using (ExecutionContext.SuppressFlow())
        {
            return _timeProvider.CreateTimer(callback, this, dueTime, Timeout.InfiniteTimeSpan);
        }
    }
}
