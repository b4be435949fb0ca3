using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// The one home of a credential set's token: the current token and its phase, the one token request under way
/// (which every caller, registration and provider with these credentials shares), refresh ahead of expiry, the
/// spacing of token requests after failures and of replacements after 401s, and the single timer that moves all
/// of it forward. State is one immutable <see cref="TokenLifecycleState"/> swapped under one lock; the hot path
/// reads it without the lock. Telemetry runs after the lock is released, and waiters are released before it.
/// </summary>
internal sealed class TokenLifecycle : IDisposable
{
    private const int MaxWaitRounds = 3;

    private readonly object _gate = new();
    private readonly TokenRequestSettings _settings;
    private readonly TokenEndpointClient _endpoint;
    private readonly TimeProvider _time;
    private readonly TokenTelemetry _telemetry;
    private readonly Func<double> _jitter;
    private readonly SharedTokenCoordinator? _shared;
    private volatile TokenLifecycleState _state = TokenLifecycleState.Initial;
    private ITimer? _timer;
    private DateTimeOffset _timerDue = DateTimeOffset.MaxValue;
    private readonly DateTimeOffset _anchorWall;
    private readonly long _anchorTimestamp;

    public TokenLifecycle(TokenRequestSettings settings, TokenEndpointClient endpoint, TimeProvider time, TokenTelemetry telemetry, Func<double>? jitter = null, SharedTokenCoordinator? shared = null)
    {
        _shared = shared;
        _settings = settings;
        _endpoint = endpoint;
        _time = time;
        _telemetry = telemetry;
        _jitter = jitter ?? Random.Shared.NextDouble;
        _anchorWall = time.GetUtcNow();
        _anchorTimestamp = time.GetTimestamp();
    }

    public TokenCacheKey Key => _settings.Key;

    /// <summary>The settings token requests are sent with: those of the registration that first used these credentials.</summary>
    public TokenRequestSettings Settings => _settings;

    /// <summary>The current snapshot, for the health check, the store and tests.</summary>
    public TokenLifecycleState State => _state;

    /// <summary>How many providers use this lifecycle; changed only by <see cref="TokenLifecycleStore"/> under its lock.</summary>
    internal int References { get; set; }

    /// <summary>The fleet's share of this credential set, when a shared token store is registered.</summary>
    internal SharedTokenCoordinator? Shared => _shared;

    /// <summary>
    /// How long before expiry a token of <paramref name="lifetime"/> is refreshed: <paramref name="refreshBeforeExpiry"/>,
    /// but at most a fifth of the lifetime, so a window longer than the lifetime neither refreshes on every call nor
    /// leaves no time for the refresh to finish. Every instance of a fleet computes the same window for a shared token.
    /// </summary>
    internal static TimeSpan RefreshWindow(TimeSpan refreshBeforeExpiry, TimeSpan lifetime) =>
        refreshBeforeExpiry <= TimeSpan.Zero || lifetime <= TimeSpan.Zero
            ? TimeSpan.Zero
            : TimeSpan.FromTicks(Math.Min(refreshBeforeExpiry.Ticks, lifetime.Ticks / 5));

    internal static bool SameToken(AccessToken a, AccessToken b) =>
        ReferenceEquals(a, b) || string.Equals(a.Value, b.Value, StringComparison.Ordinal);

    /// <summary>
    /// The hot path: the current token while it is usable, else <see langword="null"/>. A fresh token costs one
    /// volatile read and a compare, with no clock read and no allocation; inside the refresh window the clock is
    /// read too, so a timer that runs late (a starved thread pool) cannot make an expired token look valid.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public AccessToken? TryGetCurrent()
    {
        var state = _state;
        if (state.Phase == TokenPhase.Fresh)
        {
            _telemetry.CacheHit(_settings.Name);
            return state.Token;
        }

        return state.Phase == TokenPhase.RefreshDue ? TryGetInRefreshWindow(state) : null;
    }

    /// <summary>A usable token, waiting for (or starting) a token request when there is none.</summary>
    /// <returns>The token, or <see langword="null"/> when this lifecycle has been retired: ask the provider's current one.</returns>
    public async Task<AccessToken?> AcquireAsync(AccessToken? rejected, CancellationToken cancellationToken)
    {
        for (var round = 1; ; round++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var step = Decide(rejected, synchronous: false);
            if (step.Request is not { } request)
            {
                return step.Token;
            }

            if (step.Start)
            {
                // On the thread pool: never inline on a caller that holds a lock or a SynchronizationContext, and
                // never tied to one caller's cancellation.
                _ = Task.Run(() => RunAsync(request, async: true));
            }

            var token = await request.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (IsStillValid(token, round))
            {
                return token;
            }
        }
    }

    /// <summary>The synchronous twin of <see cref="AcquireAsync"/>: a request it starts is sent on this thread.</summary>
    public AccessToken? Acquire(AccessToken? rejected, CancellationToken cancellationToken)
    {
        for (var round = 1; ; round++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var step = Decide(rejected, synchronous: true);
            if (step.Request is not { } request)
            {
                return step.Token;
            }

            if (step.Start)
            {
                // With async: false every I/O call inside is synchronous, so this completes before it returns.
                _ = RunAsync(request, async: false);
            }

            var token = Wait(request.Task, cancellationToken);
            if (IsStillValid(token, round))
            {
                return token;
            }
        }
    }

    /// <summary>
    /// The API rejected a resend that carried <paramref name="replacement"/>: it rejects the request, not the token.
    /// Counted once per replacement, however many resends carried it.
    /// </summary>
    public void ResendRejected(AccessToken replacement)
    {
        int strikes;
        DateTimeOffset until;
        TimeSpan delay;
        lock (_gate)
        {
            var state = _state;
            if (state.Ended || (state.StruckReplacement is { } struck && SameToken(struck, replacement)))
            {
                return;
            }

            strikes = state.ReplacementStrikes + 1;
            delay = TokenRetryRules.ReplacementDelay(strikes, _jitter());
            until = Now() + delay;
            _state = state.WithReplacementStrikes(strikes, until, replacement);
        }

        _telemetry.ReplacementsHeldBack(_settings, strikes, until, delay);
    }

    /// <summary>A resend with a replacement succeeded: 401-driven replacements are no longer held back.</summary>
    public void ResendAccepted()
    {
        if (_state.ReplacementStrikes == 0)
        {
            return;
        }

        lock (_gate)
        {
            _state = _state.WithReplacementStrikes(0, default, struckReplacement: null);
        }
    }

    /// <summary>Forgets the current token (its cache entry was removed): the next caller fetches a new one.</summary>
    public void DropToken()
    {
        lock (_gate)
        {
            var state = _state;
            if (state.HasToken && !state.Ended)
            {
                Publish(state.WithoutToken(), Now());
            }
        }
    }

    /// <summary>
    /// No provider uses these credentials any more (a rotation): the token is dropped and the timer stopped. A
    /// request under way still answers its waiters; a scheduled one fails its waiters with the last failure.
    /// </summary>
    public void Retire() => End(disposed: false);

    /// <summary>The container is disposed: every waiter gets <see cref="ObjectDisposedException"/> at once.</summary>
    public void Dispose() => End(disposed: true);

    private AccessToken? TryGetInRefreshWindow(TokenLifecycleState state)
    {
        var now = Now();
        if (now >= state.Token!.ExpiresAt)
        {
            return null;
        }

        if (state.WantsRefreshAheadAt(now))
        {
            StartRefreshAhead();
        }

        _telemetry.CacheHit(_settings.Name);
        return state.Token;
    }

    private bool IsStillValid(AccessToken token, int round)
    {
        if (Now() < token.ExpiresAt)
        {
            return true;
        }

        // The token expired between the response and this waiter waking up (a starved thread pool, a suspended
        // host): go round once more rather than send a token the gateway will refuse.
        return round >= MaxWaitRounds
            ? throw new RapidSosAuthenticationException(
                $"The RapidSOS tokens from {_settings.DisplayEndpoint} expired before they could be used, {MaxWaitRounds} times in a row; the token lifetime (expires_in) is shorter than the time it takes to deliver them.",
                innerException: null, statusCode: null, detail: null, _settings.DisplayEndpoint)
            : false;
    }

    /// <summary>
    /// Every decision a caller needs, made under the lock from one snapshot: serve a token, fail at once, join the
    /// request under way or scheduled, or create one for the caller to start.
    /// </summary>
    private Step Decide(AccessToken? rejected, bool synchronous)
    {
        Step step;
        lock (_gate)
        {
            step = DecideLocked(rejected, synchronous);
        }

        if (step.Start && step.Request!.Reason == TokenRequestReason.Rejected)
        {
            _telemetry.TokenRejected(_settings);
        }

        return step.Failure is { } failure ? throw failure : step;
    }

    private Step DecideLocked(AccessToken? rejected, bool synchronous)
    {
        var state = _state;
        if (state.Disposed)
        {
            throw Disposed();
        }

        if (state.Ended)
        {
            return default;
        }

        var now = Now();
        if (state.HasToken && !state.IsUsableAt(now))
        {
            // The expiry timer is late; the clock decides.
            state = Publish(state.WithoutToken(), now);
        }

        var rejectsCurrent = rejected is not null && state.Holds(rejected);
        if (state.IsUsableAt(now) && (!rejectsCurrent || state.AreReplacementsHeldBack(now)))
        {
            // Either the token is fine (or already replaced), or the API was seen rejecting fresh tokens: then the
            // rejected token itself goes back, and the handler returns the 401 as it is.
            return Step.Serve(state.Token!);
        }

        var reason = rejectsCurrent ? TokenRequestReason.Rejected : TokenRequestReason.NoToken;
        if (state.Request is { } request)
        {
            if (request.IsSent)
            {
                if (!synchronous || request.RunsOnCaller)
                {
                    return Step.Join(request);
                }

                // A synchronous caller never blocks on a request that needs the thread pool to finish.
                if (state.SideRequest is { } side)
                {
                    return Step.Join(side);
                }

                var own = new TokenRequest(reason, notBefore: null).MarkSent(now, onCaller: true);
                Publish(state.WithSideRequest(own), now);
                return Step.StartNew(own);
            }

            var refusal = state.Failure is { FailsCallersAtOnce: true } f && f.IsWindowOpen(now) ? f : null;
            if (now >= request.NotBefore || (rejectsCurrent && request.Reason == TokenRequestReason.RefreshAhead && refusal is null))
            {
                // Scheduled and due, and the timer has not run yet: this caller sends it. Or a background retry,
                // scheduled on the belief that the current token works, meets a 401 for that very token: the
                // belief is gone, so it goes out now as the replacement.
                request.MarkSent(now, onCaller: synchronous, reason);
                return Step.StartNew(request.Join());
            }

            return refusal is not null ? Step.Fail(refusal.ForCallerAt(now)) : Step.Join(request);
        }

        if (state.Failure is { } failure && failure.IsWindowOpen(now))
        {
            if (failure.FailsCallersAtOnce)
            {
                return Step.Fail(failure.ForCallerAt(now));
            }

            // Transient: wait for the next attempt and share it; nobody starts their own before it.
            var scheduled = new TokenRequest(reason, failure.NextAttemptAt);
            Publish(state.WithRequest(scheduled), now);
            return Step.Join(scheduled);
        }

        var fresh = new TokenRequest(reason, notBefore: null).MarkSent(now, onCaller: synchronous);
        Publish(state.WithRequest(fresh), now);
        return Step.StartNew(fresh);
    }

    private void StartRefreshAhead()
    {
        TokenRequest request;
        DateTimeOffset expiresAt;
        lock (_gate)
        {
            var state = _state;
            var now = Now();
            if (!state.WantsRefreshAheadAt(now) || !state.IsUsableAt(now))
            {
                return;
            }

            request = new TokenRequest(TokenRequestReason.RefreshAhead, notBefore: null).MarkSent(now, onCaller: false);
            expiresAt = state.Token!.ExpiresAt;
            Publish(state.WithRequest(request), now);
        }

        _ = Task.Run(() => RunAsync(request, async: true));
        _telemetry.RefreshStarted(_settings, expiresAt);
    }

    private async Task RunAsync(TokenRequest request, bool async)
    {
        var activity = _telemetry.TokenRequestStarting(_settings);
        var started = _time.GetTimestamp();
        TokenGrant? response = null;
        Exception? error = null;
        try
        {
            // The token still held, if any, is masked in the gateway's error text too: a refresh's error may quote it.
            var held = _state.Token;
            response = _shared is null
                ? await FetchAsync(held?.Value, async).ConfigureAwait(false)
                : await _shared.RequestAsync(request.Reason, held, () => FetchAsync(held?.Value, async)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            error = ex;
        }

        Complete(request, response, error, activity, _time.GetElapsedTime(started));
    }

    private async Task<TokenGrant> FetchAsync(string? held, bool async)
    {
        var (value, lifetime) = async
            ? await _endpoint.RequestTokenAsync(_settings, held).ConfigureAwait(false)
            : _endpoint.RequestToken(_settings, held);
        return new TokenGrant(value, lifetime);
    }

    private void Complete(TokenRequest request, TokenGrant? response, Exception? error, Activity? activity, TimeSpan duration)
    {
        AccessToken? token = null;
        Exception? failed = null;
        Action? report = null;
        TokenRequest? superseded = null;
        var resend = false;
        lock (_gate)
        {
            var state = _state;
            var now = Now();
            var sentAt = request.SentAt ?? now;
            if (state.Disposed)
            {
                // The waiters were released with ObjectDisposedException when the container went away.
                failed = Disposed();
                report = () => _telemetry.TokenRequestAbandoned(activity);
            }
            else if (error is ObjectDisposedException disposed)
            {
                // The back channel was torn down with its container: not an authentication failure.
                failed = disposed;
                Publish(state.Without(request), now);
                report = () => _telemetry.TokenRequestAbandoned(activity);
            }
            else
            {
                if (response is { } answer)
                {
                    // Expiry counts from the moment the request was sent, on the local clock: the gateway's
                    // issued_at (seconds or milliseconds, on a clock that may be skewed) is not trusted. A token
                    // from the fleet counts from when its instance sent the request, on that instance's wall clock.
                    // Its expiry is that instance's, but never later than a token requested now would have (a peer
                    // whose clock runs ahead cannot stretch it); and it is ordered against other tokens by when this
                    // instance asked (AcquiredAt), not by that instance's clock.
                    var expiresAt = sentAt + answer.Lifetime;
                    if (answer.IssuedAt is { } issuedAt && issuedAt + answer.Lifetime < expiresAt)
                    {
                        expiresAt = issuedAt + answer.Lifetime;
                    }

                    var candidate = new AccessToken(answer.Value, expiresAt);
                    if (candidate.ExpiresAt <= now && !request.WasResent && !state.Ended)
                    {
                        // The token expired on its way (a stall longer than its lifetime): it is not handed to the
                        // waiters, who get one fresh request instead, since the gateway did answer.
                        request.MarkResent(now);
                        resend = true;
                        report = () => _telemetry.TokenRequestAbandoned(activity);
                    }
                    else if (candidate.ExpiresAt > now)
                    {
                        token = candidate;
                        var reissued = request.Reason == TokenRequestReason.Rejected && state.Token is { } rejectedToken && SameToken(rejectedToken, candidate);
                        superseded = StoreToken(state, request, candidate, sentAt, answer.Lifetime, now);
                        var acquiredAt = sentAt;
                        report = answer.Shared
                            ? () => _telemetry.TokenShared(_settings, candidate, activity)
                            : () => _telemetry.TokenAcquired(_settings, candidate, acquiredAt, activity, duration);
                        if (reissued && !_state.Ended)
                        {
                            // The gateway answered a 401's replacement with the rejected token itself: another
                            // request cannot help either, so replacements are held back as after a rejected resend.
                            var strikes = _state.ReplacementStrikes + 1;
                            var delay = TokenRetryRules.ReplacementDelay(strikes, _jitter());
                            _state = _state.WithReplacementStrikes(strikes, now + delay, candidate);
                            var acquired = report;
                            report = () =>
                            {
                                acquired();
                                _telemetry.ReplacementsHeldBack(_settings, strikes, now + delay, delay);
                            };
                        }
                    }
                    else
                    {
                        error = new RapidSosAuthenticationException(
                            $"The RapidSOS token from {_settings.DisplayEndpoint} expired before its response arrived: it was granted for {answer.Lifetime.TotalSeconds:0.###} s (expires_in) and the request took {(now - sentAt).TotalSeconds:0.###} s.",
                            innerException: null, statusCode: System.Net.HttpStatusCode.OK, detail: null, _settings.DisplayEndpoint);
                    }
                }

                if (token is null && !resend)
                {
                    var failure = RecordFailure(state, request, Normalize(error!), sentAt, now);
                    failed = failure.Exception;
                    var validUntil = _state.IsUsableAt(now) ? _state.Token!.ExpiresAt : (DateTimeOffset?)null;
                    report = ReferenceEquals(failure, _state.Failure)
                        ? () => _telemetry.TokenRequestFailed(_settings, failure, now, validUntil, activity, duration)
                        : () => _telemetry.TokenRequestAbandoned(activity);
                }
            }
        }

        if (resend)
        {
            report?.Invoke();
            if (request.RunsOnCaller)
            {
                _ = RunAsync(request, async: false);
            }
            else
            {
                _ = Task.Run(() => RunAsync(request, async: true));
            }

            return;
        }

        if (_state.Ended)
        {
            _shared?.Dispose();
        }

        // Release the waiters before any diagnostics run.
        if (token is not null)
        {
            request.Complete(token);
            superseded?.Complete(token);
        }
        else
        {
            request.Fail(failed!);
        }

        report?.Invoke();
    }

    /// <summary>Makes <paramref name="token"/> current; returns a scheduled request it makes unnecessary.</summary>
    private TokenRequest? StoreToken(TokenLifecycleState state, TokenRequest request, AccessToken token, DateTimeOffset sentAt, TimeSpan lifetime, DateTimeOffset now)
    {
        state = state.Without(request);
        if (state.Ended || (state.IsUsableAt(now) && state.AcquiredAt > sentAt))
        {
            // Retired: the token goes to this request's waiters only. Or a request sent later already brought a
            // newer token, which stays.
            Publish(state, now);
            return null;
        }

        // Short-lived tokens refresh once a fifth of their life remains, so a window longer than the lifetime
        // neither refreshes on every call nor leaves no time for the refresh to finish.
        var window = RefreshWindow(_settings.RefreshBeforeExpiry, lifetime);
        var refreshAt = token.ExpiresAt - window;
        var phase = window > TimeSpan.Zero && now >= refreshAt ? TokenPhase.RefreshDue : TokenPhase.Fresh;
        var next = state.WithToken(token, sentAt, refreshAt, phase);
        TokenRequest? superseded = null;
        if (next.Request is { IsSent: false } scheduled)
        {
            // A scheduled retry is not needed any more: its waiters, if any, get this token now.
            superseded = scheduled;
            next = next.WithRequest(null);
        }

        Publish(next, now);
        return superseded;
    }

    /// <summary>Records a failure and schedules what follows from it; returns what the waiters get.</summary>
    private TokenFailure RecordFailure(TokenLifecycleState state, TokenRequest request, RapidSosAuthenticationException exception, DateTimeOffset sentAt, DateTimeOffset now)
    {
        state = state.Without(request);
        if (state.Ended || (state.HasToken && state.AcquiredAt > sentAt))
        {
            // Retired, or a newer token arrived while this request was out: its failure says nothing about now.
            Publish(state, now);
            return new TokenFailure(exception.WithRetryAfter(TimeSpan.Zero), TokenRetryRules.Classify(exception), 1, now, WhileTokenValid: false);
        }

        var kind = TokenRetryRules.Classify(exception);

        // A replacement for a rejected token failed: the current token is not carrying the callers any more, so
        // the rules for "no valid token" apply, and no background retry is scheduled on its behalf.
        var valid = state.IsUsableAt(now) && request.Reason != TokenRequestReason.Rejected;

        // A streak counts within one regime: background failures while a token carried the callers do not
        // lengthen the first wait once no valid token is left.
        var attempts = state.Failure is { } previous && previous.WhileTokenValid == valid ? previous.Attempts + 1 : 1;
        var delay = TokenRetryRules.NextAttemptDelay(attempts, kind, exception.RetryAfter, valid ? state.Token!.ExpiresAt - now : null, _jitter());
        var failure = new TokenFailure(exception.WithRetryAfter(delay), kind, attempts, now + delay, valid);
        state = state.WithFailure(failure);
        if (valid && state.Request is null)
        {
            // A failed refresh ahead is tried again by the timer, with no caller needed, until the token expires.
            state = state.WithRequest(new TokenRequest(TokenRequestReason.RefreshAhead, failure.NextAttemptAt));
        }

        Publish(state, now);
        return failure;
    }

    private void OnTimer()
    {
        TokenRequest? start = null;
        lock (_gate)
        {
            var state = _state;
            if (state.Ended)
            {
                return;
            }

            // The timer is one-shot and has just fired: nothing is armed now, whatever falls due next (a timer may
            // fire a little before its due time, and must then be armed again for the same moment).
            _timerDue = DateTimeOffset.MaxValue;
            var now = Now();
            if (state.HasToken && !state.IsUsableAt(now))
            {
                state = state.WithoutToken();
            }
            else if (state.Phase == TokenPhase.Fresh && now >= state.RefreshAt)
            {
                state = state.WithPhase(TokenPhase.RefreshDue);
            }

            if (state.Request is { IsSent: false } scheduled && now >= scheduled.NotBefore)
            {
                if (scheduled.HasWaiters || state.IsUsableAt(now))
                {
                    start = scheduled.MarkSent(now, onCaller: false);
                }
                else
                {
                    // A background retry whose token expired, with nobody waiting: an idle credential set costs nothing.
                    state = state.WithRequest(null);
                }
            }

            Publish(state, now);
        }

        if (start is not null)
        {
            _ = Task.Run(() => RunAsync(start, async: true));
        }
    }

    private void End(bool disposed)
    {
        TokenLifecycleState ended;
        lock (_gate)
        {
            ended = _state;
            if (ended.Disposed || (ended.Ended && !disposed))
            {
                return;
            }

            _state = ended.AsEnded(disposed);
            _timer?.Dispose();
            _timer = null;
            _timerDue = DateTimeOffset.MaxValue;
        }

        if (disposed || (ended.Request is not { IsSent: true } && ended.SideRequest is null))
        {
            // A request under way on a retired lifecycle still answers its waiters through the store; it lets go
            // of the store's keys when it completes.
            _shared?.Dispose();
        }

        foreach (var request in new[] { ended.Request, ended.SideRequest })
        {
            if (request is null)
            {
                continue;
            }

            if (disposed)
            {
                request.Fail(Disposed());
            }
            else if (!request.IsSent)
            {
                request.Fail(ended.Failure?.Exception ?? new RapidSosAuthenticationException("The RapidSOS credentials changed before the scheduled token request was sent."));
            }
        }
    }

    /// <summary>Swaps in <paramref name="state"/> and arms the one timer for whatever falls due first. Under the lock.</summary>
    private TokenLifecycleState Publish(TokenLifecycleState state, DateTimeOffset now)
    {
        _state = state;
        var due = DateTimeOffset.MaxValue;
        if (state.Phase == TokenPhase.Fresh)
        {
            due = state.RefreshAt < state.Token!.ExpiresAt ? state.RefreshAt : state.Token.ExpiresAt;
        }
        else if (state.HasToken)
        {
            due = state.Token!.ExpiresAt;
        }

        if (state.Request is { IsSent: false, NotBefore: { } notBefore } && notBefore < due)
        {
            due = notBefore;
        }

        if (due == _timerDue || state.Ended)
        {
            return state;
        }

        _timerDue = due;
        var dueTime = due == DateTimeOffset.MaxValue ? Timeout.InfiniteTimeSpan : Max(due - now, TimeSpan.Zero);
        if (_timer is null)
        {
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                return state;
            }

            _timer = CreateTimer(dueTime);
        }
        else
        {
            _timer.Change(dueTime, Timeout.InfiniteTimeSpan);
        }

        return state;
    }

    private ITimer CreateTimer(TimeSpan dueTime)
    {
        // The timer must not capture the ExecutionContext (AsyncLocals, the current Activity) of whichever
        // request happened to create it.
        if (ExecutionContext.IsFlowSuppressed())
        {
            return _time.CreateTimer(static s => ((TokenLifecycle)s!).OnTimer(), this, dueTime, Timeout.InfiniteTimeSpan);
        }

        using (ExecutionContext.SuppressFlow())
        {
            return _time.CreateTimer(static s => ((TokenLifecycle)s!).OnTimer(), this, dueTime, Timeout.InfiniteTimeSpan);
        }
    }

    private RapidSosAuthenticationException Normalize(Exception error) =>
        error as RapidSosAuthenticationException
        ?? new RapidSosAuthenticationException(
            $"The RapidSOS token request to {_settings.DisplayEndpoint} failed: {error.GetType().Name}.",
            error, statusCode: null, detail: null, _settings.DisplayEndpoint);

    private static ObjectDisposedException Disposed() =>
        new("RapidSos.Http.Auth", "The service provider that holds this RapidSOS registration was disposed; no token can be obtained from it.");

    /// <summary>
    /// Blocks a synchronous caller until the shared request completes. The request runs either on a caller's
    /// thread or on the thread pool, never on a context this thread must pump, so the wait cannot deadlock.
    /// </summary>
    private static AccessToken Wait(Task<AccessToken> task, CancellationToken cancellationToken)
    {
        if (!task.IsCompleted)
        {
            try
            {
                task.Wait(cancellationToken);
            }
            catch (AggregateException)
            {
                // Rethrown unwrapped below.
            }
        }

        return task.GetAwaiter().GetResult();
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>
    /// The later of the wall clock and a monotonic clock anchored to it when this lifecycle began. Deadlines are
    /// never stretched: a wall clock stepped back (an NTP correction) cannot turn a 1 s window into an hour or keep
    /// an expired token alive, and a host that was suspended (which a monotonic clock does not count) still sees
    /// its tokens expire on the wall clock.
    /// </summary>
    private DateTimeOffset Now()
    {
        var wall = _time.GetUtcNow();
        var monotonic = _anchorWall + _time.GetElapsedTime(_anchorTimestamp);
        return wall > monotonic ? wall : monotonic;
    }

    /// <summary>What <see cref="DecideLocked"/> tells a caller to do.</summary>
    private readonly record struct Step(AccessToken? Token, TokenRequest? Request, bool Start, RapidSosAuthenticationException? Failure)
    {
        public static Step Serve(AccessToken token) => new(token, null, false, null);

        public static Step Join(TokenRequest request) => new(null, request.Join(), false, null);

        public static Step StartNew(TokenRequest request) => new(null, request.Join(), true, null);

        public static Step Fail(RapidSosAuthenticationException failure) => new(null, null, false, failure);
    }
}
