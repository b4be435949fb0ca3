namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// One credential set's share of the fleet: wraps each token request of its <see cref="TokenLifecycle"/> so that a
/// token another instance holds is used instead of requested, one instance at a time requests it for all (a lease in
/// the store, released only by its owner and ended by itself if the owner dies), a token the API rejected is retired
/// only if the store still holds that very token, and the gateway's refusal is shared so the fleet backs off as one.
/// </summary>
/// <remarks>
/// The store is never needed: any store error or timeout makes this request go on alone, as without a store. The
/// lookup before a request shares one <see cref="IRapidSosSharedTokenStore.OperationTimeout"/>; waiting for another
/// instance's request is bounded by its lease (renewed while its request runs) and by <see cref="MaxWait"/>. What the
/// owner writes afterwards is written in the background: the callers of this instance never wait for it.
/// </remarks>
internal sealed class SharedTokenCoordinator : IDisposable
{
    /// <summary>How long a lease lasts unless renewed: how long the fleet waits for an owner that died.</summary>
    internal static readonly TimeSpan Lease = TimeSpan.FromSeconds(5);

    /// <summary>How often a waiting instance looks again when no notification came (one may be lost).</summary>
    internal static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The longest this instance waits for the others before it requests its own token: as long as a live owner's
    /// request may take (the back channel's 30 s timeout) plus its lease. Bounds a lease that is never granted (a
    /// lock key written without expiry, a broken store).
    /// </summary>
    internal static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(35);

    /// <summary>The shortest time between two looks of a waiting instance, whatever the store's waits do.</summary>
    internal static readonly TimeSpan MinPollSpacing = TimeSpan.FromMilliseconds(20);

    /// <summary>The range a store's <see cref="IRapidSosSharedTokenStore.OperationTimeout"/> is held to.</summary>
    internal static readonly TimeSpan MinOperationTimeout = TimeSpan.FromMilliseconds(1);

    internal static readonly TimeSpan MaxOperationTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long a refusal is remembered after it lapses, so a new one continues the fleet's backoff.</summary>
    private static readonly TimeSpan s_refusalMemory = TimeSpan.FromSeconds(60);

    private readonly IRapidSosSharedTokenStore _store;
    private readonly SharedStoreStatus _status;
    private readonly SharedTokenProtector _protector;
    private readonly TokenRequestSettings _settings;
    private readonly TimeProvider _time;
    private readonly Func<double> _jitter;
    private readonly CancellationTokenSource _disposed = new();
    private readonly TimeSpan _operationTimeout;

    public SharedTokenCoordinator(IRapidSosSharedTokenStore store, SharedStoreStatus status, SharedTokenProtector protector, TokenRequestSettings settings, TimeProvider time, Func<double> jitter)
    {
        _store = store;
        _status = status;
        _protector = protector;
        _settings = settings;
        _time = time;
        _jitter = jitter;
        _operationTimeout = OperationTimeoutOf(store);
    }

    /// <summary>The keys, for tests.</summary>
    internal SharedTokenProtector Protector => _protector;

    /// <summary>
    /// A token for a request of <paramref name="reason"/>: one the fleet shares, or the one <paramref name="fetch"/>
    /// brings (sent by this instance for the fleet, or alone when the store does not answer).
    /// </summary>
    /// <param name="reason">Why the lifecycle wants a token.</param>
    /// <param name="held">The token the lifecycle holds: the one being refreshed, or the one the API rejected.</param>
    /// <param name="fetch">Sends the token request to the gateway.</param>
    /// <exception cref="RapidSosAuthenticationException">The gateway refused (this instance's request or, shared, another's).</exception>
    public async Task<TokenGrant> RequestAsync(TokenRequestReason reason, AccessToken? held, Func<Task<TokenGrant>> fetch)
    {
        SharedRefusal? refusal;
        try
        {
            using (var budget = Budget())
            {
                var (found, lastRefusal) = await LookAsync(budget.Token).ConfigureAwait(false);
                refusal = lastRefusal;
                if (found is { } shared && reason == TokenRequestReason.Rejected && held is not null && shared.Value == held.Value)
                {
                    // The fleet still holds the very token the API rejected: retire it, unless another instance
                    // has replaced it meanwhile (then the bytes differ and nothing is deleted).
                    await Call(ct => _store.DeleteIfEqualAsync(_protector.TokenKey, shared.Raw, ct), budget.Token).ConfigureAwait(false);
                    found = null;
                }

                if (found is { } usable && IsAdoptable(usable, reason, held))
                {
                    return Adopt(usable);
                }

                ThrowIfRefused(refusal);
            }

            // A fresh owner per request: a release of an earlier lease that timed out and reaches Redis late (a stalled
            // Redis runs what it was sent once it resumes) cannot end this one.
            var owner = Guid.NewGuid().ToString("N");
            var waitingSince = _time.GetTimestamp();
            while (true)
            {
                // On the machine's clock, not the injected one: the spacing protects the CPU, it is no deadline.
                var lookStarted = System.Diagnostics.Stopwatch.GetTimestamp();

                // Registered before the lease is tried, so a release right after the refusal is not missed.
                var released = WatchLease();
                bool leased;
                try
                {
                    leased = await Call(ct => _store.TryAcquireLeaseAsync(_protector.LockKey, owner, Lease, ct), CancellationToken.None).ConfigureAwait(false);
                }
                catch
                {
                    Observe(released);
                    throw;
                }

                if (leased)
                {
                    Observe(released);
                    return await FetchForTheFleetAsync(owner, reason, held, refusal, fetch).ConfigureAwait(false);
                }

                try
                {
                    // The store promises to end the wait after the poll interval; one that does not is not waited for.
                    await released.WaitAsync(PollInterval + _operationTimeout, _time).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !_disposed.IsCancellationRequested)
                {
                    throw new SharedStoreException(ex);
                }

                // A store whose waits end at once (no notifications) must not turn the wait into a tight loop.
                if (System.Diagnostics.Stopwatch.GetElapsedTime(lookStarted) is var spent && spent < MinPollSpacing)
                {
                    await Task.Delay(MinPollSpacing - spent, _disposed.Token).ConfigureAwait(false);
                }

                using (var budget = Budget())
                {
                    var (found, lastRefusal) = await LookAsync(budget.Token).ConfigureAwait(false);
                    refusal = lastRefusal ?? refusal;
                    if (found is { } usable && IsAdoptable(usable, reason, held))
                    {
                        return Adopt(usable);
                    }

                    ThrowIfRefused(lastRefusal);
                }

                var waited = _time.GetElapsedTime(waitingSince);
                if (waited >= MaxWait)
                {
                    _status.WaitGaveUp(_settings, waited);
                    return await fetch().ConfigureAwait(false);
                }
            }
        }
        catch (SharedStoreException ex)
        {
            _status.Failed(ex.InnerException!);
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            return await fetch().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The credentials are gone on this instance (a sign-out, an agency removed): the fleet's copy of their token goes
    /// too, so the next use anywhere starts from nothing. Best effort, in the background.
    /// </summary>
    public void Forget() => _ = ForgetAsync();

    public void Dispose()
    {
        if (!_disposed.IsCancellationRequested)
        {
            _disposed.Cancel();
            _protector.Dispose();
        }
    }

    private async Task<TokenGrant> FetchForTheFleetAsync(string owner, TokenRequestReason reason, AccessToken? held, SharedRefusal? refusal, Func<Task<TokenGrant>> fetch)
    {
        try
        {
            // The instance that held the lease before may have written a token just now.
            using var budget = Budget();
            var (found, lastRefusal) = await LookAsync(budget.Token).ConfigureAwait(false);
            refusal = lastRefusal ?? refusal;
            if (found is { } usable && IsAdoptable(usable, reason, held))
            {
                _ = ReleaseAsync(owner);
                return Adopt(usable);
            }

            if (lastRefusal is not null && IsInForce(lastRefusal))
            {
                _ = ReleaseAsync(owner);
                ThrowIfRefused(lastRefusal);
            }
        }
        catch (SharedStoreException ex)
        {
            // The lease is ours: the request goes out as planned, and what can be shared afterwards is.
            _status.Failed(ex.InnerException!);
        }

        var sentAt = _time.GetUtcNow();
        TokenGrant grant;
        using (var renewal = _time.CreateTimer(static s => { var (self, owner) = ((SharedTokenCoordinator, string))s!; self.Renew(owner); }, (this, owner), Lease / 3, Lease / 3))
        {
            try
            {
                grant = await fetch().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _ = ShareFailureAsync(owner, ex, reason, held, refusal);
                throw;
            }
        }

        // Shared with the wall-clock time of the request; this instance's lifecycle keeps counting on its own clock.
        _ = ShareTokenAsync(owner, grant with { IssuedAt = sentAt }, refusal is not null);
        return grant;
    }

    /// <summary>A wait for the lease's release, registered now; a store that throws here is a store error like any other.</summary>
    private Task WatchLease()
    {
        try
        {
            return _store.WaitForChangeAsync(_protector.LockKey, PollInterval, _disposed.Token).AsTask();
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }

    private async Task ForgetAsync()
    {
        try
        {
            // Whatever is under this credential set's key is its token: no need to open it to delete it.
            var value = await Call(ct => _store.GetAsync(_protector.TokenKey, ct), CancellationToken.None).ConfigureAwait(false);
            if (value is not null)
            {
                await Call(ct => _store.DeleteIfEqualAsync(_protector.TokenKey, value, ct), CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (SharedStoreException ex)
        {
            _status.Failed(ex.InnerException!);
        }
    }

    /// <summary>Reads the shared token and the shared refusal together (one round trip).</summary>
    private async Task<(SharedToken? Token, SharedRefusal? Refusal)> LookAsync(CancellationToken cancellationToken)
    {
        var tokenRead = Call(ct => _store.GetAsync(_protector.TokenKey, ct), cancellationToken);
        var refusalRead = Call(ct => _store.GetAsync(_protector.RefusalKey, ct), cancellationToken);
        byte[]? tokenValue, refusalValue;
        try
        {
            tokenValue = await tokenRead.ConfigureAwait(false);
        }
        finally
        {
            refusalValue = await refusalRead.ConfigureAwait(false);
        }

        _status.Answered();
        SharedToken? token = null;
        if (tokenValue is not null)
        {
            if (_protector.TryOpenToken(tokenValue, out var value, out var issuedAt, out var expiresAt))
            {
                token = new SharedToken(value, issuedAt, expiresAt, tokenValue);
            }
            else
            {
                _status.Unreadable(_settings);
            }
        }

        SharedRefusal? refusal = null;
        if (refusalValue is not null && !_protector.TryOpenRefusal(refusalValue, out refusal))
        {
            _status.Unreadable(_settings);
        }

        return (token, refusal);
    }

    private bool IsAdoptable(SharedToken shared, TokenRequestReason reason, AccessToken? held)
    {
        var now = _time.GetUtcNow();
        if (shared.ExpiresAt <= now || shared.ExpiresAt <= shared.IssuedAt)
        {
            return false;
        }

        if (held is null || reason == TokenRequestReason.NoToken)
        {
            return !(reason == TokenRequestReason.Rejected && held is not null && shared.Value == held.Value);
        }

        if (shared.Value == held.Value && (reason == TokenRequestReason.Rejected || shared.ExpiresAt <= held.ExpiresAt))
        {
            // The very token the API rejected; or, for a refresh, the same grant (a gateway that answers a refresh
            // with the token it issued before, for a later expiry, is taken as such).
            return false;
        }

        // Only a newer token than the one held: after a 401, an older one (an instance that went on alone while Redis
        // was away holds a token of its own) was most likely revoked with it. A refresh also leaves a token that is
        // itself due for refresh to whoever refreshes.
        return reason == TokenRequestReason.Rejected
            ? shared.ExpiresAt >= held.ExpiresAt
            : shared.ExpiresAt > held.ExpiresAt && now < shared.ExpiresAt - TokenLifecycle.RefreshWindow(_settings.RefreshBeforeExpiry, shared.ExpiresAt - shared.IssuedAt);
    }

    private static TokenGrant Adopt(SharedToken shared) =>
        new(shared.Value, shared.ExpiresAt - shared.IssuedAt, shared.IssuedAt, Shared: true);

    private bool IsInForce(SharedRefusal refusal) => refusal.Until > _time.GetUtcNow();

    private void ThrowIfRefused(SharedRefusal? refusal)
    {
        if (refusal is null || !IsInForce(refusal))
        {
            return;
        }

        var left = refusal.Until - _time.GetUtcNow();

        // Scrubbed again with this instance's credentials: the text was scrubbed by the instance that wrote it, and
        // is sealed in the store, but nothing read from outside is shown unscrubbed.
        var scrubber = _settings.Scrubber;
        throw new RapidSosAuthenticationException(
            scrubber.Scrub(refusal.Message) + " (Shared by the instance of the fleet that sent the request; this instance sends none before the fleet's next attempt.)",
            innerException: null,
            refusal.StatusCode,
            refusal.Detail is null ? null : scrubber.Scrub(refusal.Detail),
            _settings.DisplayEndpoint)
        {
            RetryAfter = left,
        };
    }

    private async Task ShareTokenAsync(string owner, TokenGrant grant, bool clearRefusal)
    {
        try
        {
            var issuedAt = grant.IssuedAt!.Value;
            var expiresAt = issuedAt + grant.Lifetime;
            var timeToLive = expiresAt - _time.GetUtcNow();
            if (timeToLive > TimeSpan.Zero)
            {
                var sealedToken = _protector.SealToken(grant.Value, issuedAt, expiresAt);
                await Call(ct => _store.SetAsync(_protector.TokenKey, sealedToken, timeToLive, ct), CancellationToken.None).ConfigureAwait(false);
            }

            if (clearRefusal)
            {
                var gone = await Call(ct => _store.GetAsync(_protector.RefusalKey, ct), CancellationToken.None).ConfigureAwait(false);
                if (gone is not null)
                {
                    await Call(ct => _store.DeleteIfEqualAsync(_protector.RefusalKey, gone, ct), CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        catch (SharedStoreException ex)
        {
            _status.Failed(ex.InnerException!);
        }
        catch (Exception ex) when (ex is ArgumentException or ObjectDisposedException)
        {
            // A token too long to store, or this instance is shutting down: the others fetch their own.
        }
        finally
        {
            await ReleaseAsync(owner).ConfigureAwait(false);
        }
    }

    private async Task ShareFailureAsync(string owner, Exception error, TokenRequestReason reason, AccessToken? held, SharedRefusal? previous)
    {
        try
        {
            if (error is ObjectDisposedException || _disposed.IsCancellationRequested)
            {
                return;
            }

            var failure = error as RapidSosAuthenticationException;
            var now = _time.GetUtcNow();
            var kind = TokenRetryRules.Classify(error);

            // The streak is the fleet's: it continues the last refusal any instance shared, while it is remembered.
            var attempts = (previous?.Attempts ?? 0) + 1;
            TimeSpan? timeLeft = reason != TokenRequestReason.Rejected && held is not null && held.ExpiresAt > now ? held.ExpiresAt - now : null;
            var delay = TokenRetryRules.NextAttemptDelay(attempts, kind, failure?.RetryAfter, timeLeft, _jitter());
            var refusal = new SharedRefusal(
                now,
                now + delay,
                attempts,
                failure?.StatusCode,
                failure?.Message ?? $"The RapidSOS token request to {_settings.DisplayEndpoint} failed: {error.GetType().Name}.",
                failure?.Detail);
            var sealedRefusal = _protector.SealRefusal(refusal);
            await Call(ct => _store.SetAsync(_protector.RefusalKey, sealedRefusal, delay + s_refusalMemory, ct), CancellationToken.None).ConfigureAwait(false);
        }
        catch (SharedStoreException ex)
        {
            _status.Failed(ex.InnerException!);
        }
        catch (ObjectDisposedException)
        {
            // Shutting down.
        }
        finally
        {
            await ReleaseAsync(owner).ConfigureAwait(false);
        }
    }

    private async Task ReleaseAsync(string owner)
    {
        try
        {
            await Call(ct => _store.ReleaseLeaseAsync(_protector.LockKey, owner, ct), CancellationToken.None).ConfigureAwait(false);
        }
        catch (SharedStoreException ex)
        {
            // The lease ends by itself.
            _status.Failed(ex.InnerException!);
        }
    }

    private void Renew(string owner) => _ = RenewAsync(owner);

    private async Task RenewAsync(string owner)
    {
        try
        {
            await Call(ct => _store.TryAcquireLeaseAsync(_protector.LockKey, owner, Lease, ct), CancellationToken.None).ConfigureAwait(false);
        }
        catch (SharedStoreException)
        {
            // Counted when the request's result is shared; a lease that lapses costs at most one more request.
        }
    }

    /// <summary>The store's timeout, read once: one that throws or is out of range cannot fail a token request.</summary>
    private static TimeSpan OperationTimeoutOf(IRapidSosSharedTokenStore store)
    {
        TimeSpan timeout;
        try
        {
            timeout = store.OperationTimeout;
        }
        catch (Exception)
        {
            return TimeSpan.FromMilliseconds(250);
        }

        return timeout < MinOperationTimeout ? MinOperationTimeout : timeout > MaxOperationTimeout ? MaxOperationTimeout : timeout;
    }

    /// <summary>One <see cref="IRapidSosSharedTokenStore.OperationTimeout"/> on this instance's clock, shared by the calls of one lookup.</summary>
    private CancellationTokenSource Budget() => new(_operationTimeout, _time);

    /// <summary>
    /// One store call, bounded by the store's timeout and by <paramref name="budget"/>; anything that goes wrong,
    /// including a store that throws synchronously or never answers, is a <see cref="SharedStoreException"/>.
    /// </summary>
    private async Task<T> Call<T>(Func<CancellationToken, ValueTask<T>> call, CancellationToken budget)
    {
        try
        {
            // Writes after a request (no budget) are not cancelled by a rotation or a disposal: the fleet still gets
            // the token, and the lease its release.
            var token = budget;
            return await call(token).AsTask().WaitAsync(_operationTimeout, _time, token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            throw new SharedStoreException(ex);
        }
    }

    private async Task Call(Func<CancellationToken, ValueTask> call, CancellationToken budget) =>
        await Call(async ct =>
        {
            await call(ct).ConfigureAwait(false);
            return true;
        }, budget).ConfigureAwait(false);

    private static void Observe(Task task) => task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>A token read from the store, with the exact bytes it was read as (for compare-and-delete).</summary>
    private sealed record SharedToken(string Value, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, byte[] Raw);

    /// <summary>The store failed or did not answer in time.</summary>
    private sealed class SharedStoreException(Exception inner) : Exception("The shared token store did not answer.", inner);
}
