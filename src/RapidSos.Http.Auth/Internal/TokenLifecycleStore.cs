using Microsoft.Extensions.Caching.Memory;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Keeps one <see cref="TokenLifecycle"/> per credential set, a registration's own in <see cref="IMemoryCache"/> and
/// run-time ones in a table of its own, shared by every registration and provider whose credentials are identical, counts who uses each, retires one when its last
/// user lets go (a rotation) and disposes all of them with the container.
/// </summary>
/// <remarks>
/// Entries are <see cref="CacheItemPriority.NeverRemove"/> with a size of 1, so caches with a <c>SizeLimit</c>
/// accept them and memory pressure never forces a token request. A full size-limited cache that refuses an entry
/// only costs the sharing between registrations: the provider keeps its lifecycle. An entry the application
/// removes from the cache drops its token (the next caller fetches a new one) and is put back.
/// </remarks>
internal sealed class TokenLifecycleStore : IDisposable
{
    private readonly object _gate = new();
    private readonly IMemoryCache _cache;
    private readonly TokenEndpointClient _endpoint;
    private readonly TimeProvider _time;
    private readonly TokenTelemetry _telemetry;
    private readonly HashSet<TokenLifecycle> _live = [];
    private readonly IRapidSosSharedTokenStore? _shared;
    private readonly SharedStoreStatus? _sharedStatus;

    // Run-time credential sets (thousands, bounded per registration by MaxCredentialSets) are shared here rather than
    // in IMemoryCache: in an application's size-limited cache they would use up the budget of its own entries.
    private readonly Dictionary<TokenCacheKey, TokenLifecycle> _runTime = [];
    private readonly PostEvictionDelegate _onEvicted;
    private bool _disposed;

    public TokenLifecycleStore(IMemoryCache cache, TokenEndpointClient endpoint, TimeProvider time, TokenTelemetry telemetry, IRapidSosSharedTokenStore? shared = null)
    {
        _shared = shared;
        _sharedStatus = shared is null ? null : new SharedStoreStatus(telemetry);
        _cache = cache;
        _endpoint = endpoint;
        _time = time;
        _telemetry = telemetry;
        _onEvicted = OnEvicted;
    }

    /// <summary>The jitter source of every lifecycle (a number in [0, 1)); tests make it fixed.</summary>
    internal Func<double> Jitter { get; set; } = Random.Shared.NextDouble;

    /// <summary>How many lifecycles are alive: for tests and the soak report.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _live.Count;
            }
        }
    }

    /// <summary>The lifecycle for <paramref name="settings"/>' credentials, created on first use; pair with <see cref="Release"/>.</summary>
    /// <exception cref="ObjectDisposedException">The container was disposed.</exception>
    public TokenLifecycle Acquire(TokenRequestSettings settings)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!TryGetLive(settings.Key, out var lifecycle))
            {
                lifecycle = new TokenLifecycle(settings, _endpoint, _time, _telemetry, Jitter, Coordinator(settings));
                _live.Add(lifecycle);
                if (settings.Key.RunTime)
                {
                    _runTime[settings.Key] = lifecycle;
                }
                else
                {
                    Put(lifecycle);
                }
            }

            lifecycle.References++;
            return lifecycle;
        }
    }

    /// <summary>
    /// One user of <paramref name="lifecycle"/> lets go; the last one retires it (a rotation) or, when
    /// <paramref name="disposing"/> (its container is going away), disposes it, and removes its entry.
    /// </summary>
    public void Release(TokenLifecycle lifecycle, bool disposing = false)
    {
        lock (_gate)
        {
            if (--lifecycle.References > 0 || !_live.Remove(lifecycle))
            {
                return;
            }

            // End it before removing, so the eviction callback sees it ended and does not put it back.
            if (disposing)
            {
                lifecycle.Dispose();
            }
            else
            {
                lifecycle.Retire();
            }
            if (lifecycle.Key.RunTime)
            {
                if (_runTime.TryGetValue(lifecycle.Key, out var current) && ReferenceEquals(current, lifecycle))
                {
                    _runTime.Remove(lifecycle.Key);
                }
            }
            else if (_cache.TryGetValue(lifecycle.Key, out var held) && ReferenceEquals(held, lifecycle))
            {
                _cache.Remove(lifecycle.Key);
            }
        }
    }

    public void Dispose()
    {
        TokenLifecycle[] all;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            all = [.. _live];
            _live.Clear();
            _runTime.Clear();
        }

        foreach (var lifecycle in all)
        {
            lifecycle.Dispose();
        }
    }

    /// <summary>The shared store's status, when there is one: for tests.</summary>
    internal SharedStoreStatus? SharedStatus => _sharedStatus;

    /// <summary>The fleet's share of a new credential set, or <see langword="null"/> to go alone (no store, or no AES-GCM here).</summary>
    private SharedTokenCoordinator? Coordinator(TokenRequestSettings settings)
    {
        if (_shared is null || !SharedTokenProtector.IsSupported)
        {
            return null;
        }

        SharedTokenProtector protector;
        try
        {
            protector = settings.CreateSharedProtector();
        }
        catch (ArgumentException)
        {
            // A credential with a lone surrogate has no exact UTF-8 form to derive keys from: it is not shared.
            return null;
        }

        return new SharedTokenCoordinator(_shared, _sharedStatus!, protector, settings, _time, Jitter);
    }

    private bool TryGetLive(TokenCacheKey key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TokenLifecycle? lifecycle)
    {
        if (key.RunTime
                ? _runTime.TryGetValue(key, out lifecycle)
                : _cache.TryGetValue(key, out var held) && (lifecycle = held as TokenLifecycle) is not null)
        {
            if (!lifecycle!.State.Ended)
            {
                return true;
            }
        }

        lifecycle = null;
        return false;
    }

    private void Put(TokenLifecycle lifecycle)
    {
        var options = new MemoryCacheEntryOptions { Size = 1, Priority = CacheItemPriority.NeverRemove };
        options.RegisterPostEvictionCallback(_onEvicted, lifecycle);
        _cache.Set(lifecycle.Key, lifecycle, options);
    }

    private void OnEvicted(object key, object? value, EvictionReason reason, object? state)
    {
        var lifecycle = (TokenLifecycle)state!;
        if (reason is EvictionReason.Replaced or EvictionReason.Capacity || lifecycle.State.Ended)
        {
            // Capacity: a full size-limited cache refused the entry, which says nothing about the token.
            return;
        }

        // The application removed it (or cleared the cache): forget the token, keep the lifecycle and its users.
        lifecycle.DropToken();
        lock (_gate)
        {
            if (!_disposed && _live.Contains(lifecycle) && !_cache.TryGetValue(lifecycle.Key, out _))
            {
                Put(lifecycle);
            }
        }
    }
}
