using System.Runtime.CompilerServices;
using System.Diagnostics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// The <see cref="ITokenProvider"/> of one registration. Tokens live in <see cref="IMemoryCache"/> under a key
/// made of everything that changes them; the current one is also held in a field, so a cached token costs one
/// volatile read and no allocation. One token request at a time per key is shared by every waiting caller
/// (single flight), refreshes start ahead of expiry in the background, and a rejected token is replaced once
/// however many callers report it.
/// </summary>
internal sealed class CachingTokenProvider : ITokenProvider, ISyncTokenProvider, IDisposable
{
    private static readonly TimeSpan s_minRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_maxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly string _name;
    private readonly IOptionsMonitor<RapidSosAuthOptions> _optionsMonitor;
    private readonly IMemoryCache _cache;
    private readonly TokenEndpointClient _endpointClient;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly RapidSosAuthMetrics _metrics;
    private readonly IDisposable? _optionsChangeRegistration;
    private readonly object _gate = new();

    private volatile CachedToken? _current;
    private volatile TokenRequestSettings? _settings;
    private int _settingsVersion;
    private Inflight? _inflight;
    private Exception? _lastFailure;

    public CachingTokenProvider(
        string name,
        IOptionsMonitor<RapidSosAuthOptions> optionsMonitor,
        IMemoryCache cache,
        TokenEndpointClient endpointClient,
        TimeProvider timeProvider,
        ILogger logger,
        RapidSosAuthMetrics? metrics = null)
    {
        _name = name;
        _optionsMonitor = optionsMonitor;
        _cache = cache;
        _endpointClient = endpointClient;
        _timeProvider = timeProvider;
        _logger = logger;
        _metrics = metrics ?? RapidSosAuthMetrics.Shared;
        _optionsChangeRegistration = optionsMonitor.OnChange(OnOptionsChanged);
    }

    public string Name => _name;

    /// <summary>The last failed token request, cleared by a successful one: for the health check.</summary>
    internal Exception? LastFailure => Volatile.Read(ref _lastFailure);

    /// <summary>The token callers are served now, if any: for the health check and tests.</summary>
    internal CachedToken? Current => _current;

    /// <summary>Whether a token request is under way: for tests and the soak report.</summary>
    internal bool HasInflightRequest
    {
        get
        {
            lock (_gate)
            {
                return _inflight is not null;
            }
        }
    }

    public ValueTask<AccessToken> GetTokenAsync(CancellationToken cancellationToken = default) =>
        TryServeCurrent() is { } token
            ? new ValueTask<AccessToken>(token)
            : new ValueTask<AccessToken>(GetTokenSlowAsync(cancellationToken));

    public AccessToken GetToken(CancellationToken cancellationToken)
    {
        if (TryServeCurrent() is { } token)
        {
            return token;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var settings = GetSettings();
        if (TryServeCached(settings) is { } cached)
        {
            return cached.Token;
        }

        return Wait(GetOrStartRequest(settings, rejected: null, async: false), cancellationToken).Token;
    }

    /// <summary>
    /// The hot path shared by both callers: the current token while it is usable (starting the one background
    /// refresh once it is due), else <see langword="null"/>. One volatile read, no clock read, no allocation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private AccessToken? TryServeCurrent()
    {
        var current = _current;
        if (current is null)
        {
            return null;
        }

        var state = current.State;
        if (state == CachedToken.Expired)
        {
            return null;
        }

        if (state == CachedToken.RefreshDue)
        {
            StartBackgroundRefresh(current);
        }

        CountCacheHit();
        return current.Token;
    }

    public AccessToken RefreshToken(AccessToken rejected, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        cancellationToken.ThrowIfCancellationRequested();
        var settings = GetSettings();
        if (FindReplacement(settings, rejected) is { } replacement)
        {
            return replacement.Token;
        }

        return Wait(GetOrStartRequest(settings, rejected, async: false), cancellationToken).Token;
    }

    public ValueTask<AccessToken> RefreshTokenAsync(AccessToken rejected, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        return new ValueTask<AccessToken>(RefreshTokenCoreAsync(rejected, cancellationToken));
    }

    public void Dispose()
    {
        _optionsChangeRegistration?.Dispose();
    }

    private async Task<AccessToken> GetTokenSlowAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var settings = GetSettings();
        if (TryServeCached(settings) is { } cached)
        {
            return cached.Token;
        }

        var inflight = GetOrStartRequest(settings, rejected: null, async: true);
        var entry = await inflight.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return entry.Token;
    }

    /// <summary>Another registration with the same credentials, or an earlier provider, may hold a token already.</summary>
    private CachedToken? TryServeCached(TokenRequestSettings settings)
    {
        if (TryGetCached(settings.Key) is not { } cached)
        {
            return null;
        }

        Publish(settings, cached);
        if (cached.State == CachedToken.RefreshDue)
        {
            StartBackgroundRefresh(cached);
        }

        return cached;
    }

    private CachedToken? FindReplacement(TokenRequestSettings settings, AccessToken rejected)
    {
        var current = _current is { } c && c.Key.Equals(settings.Key) ? c : TryGetCached(settings.Key);
        return current is not null && current.IsUsable && !current.Holds(rejected) ? current : null;
    }

    /// <summary>
    /// Blocks a synchronous caller until the shared request completes. The request runs either on this very
    /// thread (already complete here) or on the thread pool, never on a context this thread must pump, so the
    /// wait cannot deadlock.
    /// </summary>
    private static CachedToken Wait(Inflight inflight, CancellationToken cancellationToken)
    {
        if (!inflight.Task.IsCompleted)
        {
            try
            {
                inflight.Task.Wait(cancellationToken);
            }
            catch (AggregateException)
            {
                // Rethrown unwrapped below.
            }
        }

        return inflight.Task.GetAwaiter().GetResult();
    }

    private void CountCacheHit()
    {
        if (_metrics.CacheHits.Enabled)
        {
            _metrics.CacheHits.Add(1, new KeyValuePair<string, object?>("rapidsos.registration", _name));
        }
    }

    private async Task<AccessToken> RefreshTokenCoreAsync(AccessToken rejected, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var settings = GetSettings();
        if (FindReplacement(settings, rejected) is { } replacement)
        {
            // Someone else already replaced the rejected token.
            return replacement.Token;
        }

        var inflight = GetOrStartRequest(settings, rejected, async: true);
        var entry = await inflight.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return entry.Token;
    }

    private void StartBackgroundRefresh(CachedToken current)
    {
        if (!current.TryBeginRefresh())
        {
            return;
        }

        TokenRequestSettings settings;
        try
        {
            settings = GetSettings();
        }
        catch (OptionsValidationException ex)
        {
            // The options changed to something invalid: keep the token we have until it expires.
            BackgroundRefreshFailed(current, ex);
            return;
        }

        if (!settings.Key.Equals(current.Key))
        {
            return;
        }

        Log.BackgroundRefreshStarted(_logger, settings.ClientId, _name, current.Token.ExpiresAt);
        var inflight = GetOrStartRequest(settings, rejected: null, async: true);
        _ = inflight.Task.ContinueWith(
            static (task, state) =>
            {
                var (provider, token, settings) = ((CachingTokenProvider, CachedToken, TokenRequestSettings))state!;
                if (task.IsFaulted)
                {
                    provider._metrics.RecordRefreshFailure(settings);
                    provider.BackgroundRefreshFailed(token, task.Exception!.InnerException!);
                }
            },
            (this, current, settings),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void BackgroundRefreshFailed(CachedToken token, Exception exception)
    {
        // Back off exponentially, honour Retry-After, but never wait past half the time the token has left:
        // the point of refreshing ahead is to succeed before callers are left without a token.
        var attempt = token.RefreshFailures + 1;
        var delay = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, attempt - 1), s_maxRetryDelay.TotalSeconds));
        if (exception is RapidSosAuthenticationException { RetryAfter: { } retryAfter } && retryAfter > delay)
        {
            delay = retryAfter;
        }

        var halfLeft = token.TimeLeft() / 2;
        if (delay > halfLeft)
        {
            delay = halfLeft;
        }

        if (delay < s_minRetryDelay)
        {
            delay = s_minRetryDelay;
        }

        // Arm the retry before logging: whoever observes the log must find the retry already scheduled.
        token.RefreshFailed(delay);
        Diagnose(() => Log.BackgroundRefreshFailed(_logger, token.Key.ClientId, _name, attempt, token.Token.ExpiresAt, delay, exception));
    }

    /// <summary>
    /// Joins the token request under way for <paramref name="settings"/>' key, or starts one: on the thread pool
    /// for asynchronous callers, on this thread for synchronous ones. With <paramref name="rejected"/>, the cached
    /// entry holding that token is retired first.
    /// </summary>
    private Inflight GetOrStartRequest(TokenRequestSettings settings, AccessToken? rejected, bool async)
    {
        Inflight inflight;
        lock (_gate)
        {
            if (_inflight is { } existing && existing.Key.Equals(settings.Key))
            {
                return existing;
            }

            if (rejected is not null)
            {
                var current = _current;
                if (current is not null && current.Holds(rejected))
                {
                    // Check again under the lock: a request that completed since the caller looked has already
                    // replaced the token.
                    _current = null;
                    Retire(current);
                }
                else if (current is not null && current.IsUsable && current.Key.Equals(settings.Key))
                {
                    return Inflight.Completed(current);
                }
                else if (TryGetCached(settings.Key) is { } cached && cached.Holds(rejected))
                {
                    Retire(cached);
                }

                Log.TokenRejected(_logger, settings.ClientId, _name);
            }

            inflight = new Inflight(settings.Key);
            _inflight = inflight;
        }

        if (async)
        {
            // On the thread pool: never inline on a caller that holds a lock or a SynchronizationContext, and
            // never tied to one caller's cancellation.
            _ = Task.Run(() => RunRequestAsync(settings, inflight, async: true));
        }
        else
        {
            // With async: false every I/O call inside is synchronous, so this completes before it returns.
            _ = RunRequestAsync(settings, inflight, async: false);
        }

        return inflight;
    }

    private async Task RunRequestAsync(TokenRequestSettings settings, Inflight inflight, bool async)
    {
        CachedToken? entry = null;
        Exception? failure = null;
        Activity? activity = null;
        var started = _timeProvider.GetTimestamp();
        try
        {
            activity = RapidSosAuthMetrics.StartTokenRequestActivity(settings);

            // Expiry counts from the moment the request is sent, on the local clock: the gateway's issued_at
            // (seconds or milliseconds, on a clock that may be skewed) is not trusted.
            var sentAt = _timeProvider.GetUtcNow();
            var (value, lifetime) = async
                ? await _endpointClient.RequestTokenAsync(settings).ConfigureAwait(false)
                : _endpointClient.RequestToken(settings);
            var token = new AccessToken(value, sentAt + lifetime);
            entry = new CachedToken(token, settings.Key, sentAt, lifetime, settings.RefreshBeforeExpiry, _timeProvider);
            Store(entry, lifetime);
            Publish(settings, entry);
        }
        catch (Exception ex)
        {
            entry = null;
            failure = ex is RapidSosAuthenticationException
                ? ex
                : new RapidSosAuthenticationException($"The RapidSOS token request to {settings.DisplayEndpoint} failed: {ex.GetType().Name}.", ex, statusCode: null, detail: null, settings.DisplayEndpoint);
        }
        finally
        {
            // Release the waiters before any diagnostics run: a log sink or listener that throws must never
            // leave callers waiting on a request that will not complete.
            Volatile.Write(ref _lastFailure, failure);
            lock (_gate)
            {
                if (ReferenceEquals(_inflight, inflight))
                {
                    _inflight = null;
                }
            }

            if (entry is not null)
            {
                inflight.Complete(entry);
            }
            else
            {
                inflight.Fail(failure!);
            }
        }

        Diagnose(() =>
        {
            if (entry is not null)
            {
                Log.TokenAcquired(_logger, settings.ClientId, settings.Username is null ? string.Empty : $" acting for user '{settings.Username}'", _name, settings.GrantType, settings.DisplayEndpoint, entry.Token.ExpiresAt, entry.Token.ExpiresAt - entry.AcquiredAt);
            }
            else
            {
                Log.TokenRequestFailed(_logger, settings.ClientId, _name, failure!);
            }
        });
        Diagnose(() => _metrics.RecordTokenRequest(settings, _timeProvider.GetElapsedTime(started), failure));
        Diagnose(() => RapidSosAuthMetrics.StopTokenRequestActivity(activity, entry?.Token.ExpiresAt, failure));
    }

    /// <summary>Runs logging or telemetry that must not be able to break the token flow.</summary>
    private static void Diagnose(Action action)
    {
        try
        {
            action();
        }
#pragma warning disable CA1031 // A broken log sink or listener is not the caller's problem.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private void Store(CachedToken entry, TimeSpan lifetime)
    {
        // The cache's own clock decides when it drops the entry; the entry's life cycle (fresh, refresh due,
        // expired) follows the injected TimeProvider. Size is set because a cache with a SizeLimit refuses
        // entries without one; NeverRemove keeps memory pressure from forcing needless token requests.
        var options = new MemoryCacheEntryOptions
        {
            AbsoluteExpirationRelativeToNow = lifetime,
            Size = 1,
            Priority = CacheItemPriority.NeverRemove,
        };
        options.RegisterPostEvictionCallback(static (_, value, reason, _) =>
        {
            // Replaced (a newer token for the same key) or removed by the application: retire it. Not on Capacity:
            // a full size-limited cache refusing the entry says nothing about the token, which the provider keeps
            // serving from its field; retiring it would fetch a new token on every call.
            if (reason is EvictionReason.Replaced or EvictionReason.Removed)
            {
                ((CachedToken)value!).Invalidate();
            }
        });
        _cache.Set(entry.Key, entry, options);
    }

    private void Retire(CachedToken entry)
    {
        entry.Invalidate();
        if (_cache.TryGetValue(entry.Key, out var held) && ReferenceEquals(held, entry))
        {
            _cache.Remove(entry.Key);
        }
    }

    private CachedToken? TryGetCached(TokenCacheKey key) =>
        _cache.TryGetValue(key, out var value) && value is CachedToken { IsUsable: true } cached ? cached : null;

    private void Publish(TokenRequestSettings settings, CachedToken entry)
    {
        lock (_gate)
        {
            // A token requested with credentials that have since been rotated is not served for the new ones.
            if (ReferenceEquals(_settings, settings) || (_settings is { } now && now.Key.Equals(entry.Key)))
            {
                _current = entry;
            }
        }
    }

    private TokenRequestSettings GetSettings()
    {
        var settings = _settings;
        if (settings is not null)
        {
            return settings;
        }

        var version = Volatile.Read(ref _settingsVersion);
        settings = TokenRequestSettings.Create(_name, _optionsMonitor.Get(_name));
        lock (_gate)
        {
            if (_settingsVersion == version)
            {
                _settings = settings;
            }
        }

        return settings;
    }

    private void OnOptionsChanged(RapidSosAuthOptions options, string? name)
    {
        if ((name ?? Options.DefaultName) != _name)
        {
            return;
        }

        TokenCacheKey? newKey;
        try
        {
            newKey = TokenRequestSettings.Create(_name, options).Key;
        }
        catch (OptionsValidationException)
        {
            newKey = null;
        }

        lock (_gate)
        {
            _settingsVersion++;
            _settings = null;
            if (_current is { } current && !current.Key.Equals(newKey))
            {
                _current = null;
                Log.CredentialsChanged(_logger, _name);
            }
        }
    }

    /// <summary>One token request and everyone waiting for it.</summary>
    private sealed class Inflight
    {
        private readonly TaskCompletionSource<CachedToken> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Inflight(TokenCacheKey key) => Key = key;

        public TokenCacheKey Key { get; }

        public Task<CachedToken> Task => _completion.Task;

        public static Inflight Completed(CachedToken entry)
        {
            var inflight = new Inflight(entry.Key);
            inflight.Complete(entry);
            return inflight;
        }

        public void Complete(CachedToken entry) => _completion.TrySetResult(entry);

        public void Fail(Exception exception)
        {
            _completion.TrySetException(exception);

            // Every waiter may have given up (cancelled); the failure is logged, so mark it observed.
            _ = _completion.Task.Exception;
        }
    }
}
