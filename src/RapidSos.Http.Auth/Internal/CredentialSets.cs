using System.Collections.Concurrent;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// The run-time credential sets of one registration (<see cref="IRapidSosTokenCache"/>): one <see cref="CredentialSet"/>
/// per distinct <see cref="RapidSosCredential"/>, at most <see cref="RapidSosAuthOptions.MaxCredentialSets"/>, the
/// least recently used dropped first. It also chooses a request's credentials for the handler: the request's own,
/// else the registration's resolver's, else none (the registration's own credentials).
/// </summary>
/// <remarks>
/// A reused <see cref="RapidSosCredential"/> finds its set through <see cref="RapidSosCredential.Slot"/>: two reads and
/// two comparisons, no look-up, no allocation. A new instance or a new set takes the look-up, and a new set the lock,
/// under which the bound is kept: the count never exceeds the maximum, whatever the churn. When the registration's
/// endpoints, client authentication or refresh window change, every set is dropped and rebuilt on next use.
/// </remarks>
internal sealed class CredentialSets : IRapidSosTokenCache, IDisposable
{
    private readonly object _gate = new();
    private readonly string _name;
    private readonly RapidSosOptionsChanges _changes;
    private readonly TokenLifecycleStore _store;
    private readonly CredentialSetsDirectory _directory;
    private readonly IDisposable _subscription;
    private readonly ConcurrentDictionary<CredentialKey, CredentialSet> _sets = new();
    private volatile RegistrationEndpoints? _endpoints;
    private volatile int _max;
    private bool _disposed;

    public CredentialSets(string name, RapidSosOptionsChanges changes, TokenLifecycleStore store, CredentialSetsDirectory directory, IRapidSosCredentialResolver? resolver)
    {
        _name = name;
        _changes = changes;
        _store = store;
        _directory = directory;
        Resolver = resolver;
        _subscription = changes.Subscribe(name, OnOptionsChanged);
        directory.Add(this);
    }

    /// <summary>
    /// The clock sets are stamped with when used, in milliseconds: <see cref="Environment.TickCount64"/> (a few
    /// nanoseconds, monotonic); tests drive it from their fake time.
    /// </summary>
    internal Func<long> Milliseconds { get; set; } = static () => Environment.TickCount64;

    /// <summary>The registration's resolver, if it has one.</summary>
    public IRapidSosCredentialResolver? Resolver { get; }

    /// <summary>How many sets are held: for tests and the benchmarks.</summary>
    public int Count => _sets.Count;

    public ValueTask<AccessToken> GetTokenAsync(RapidSosCredential credential, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credential);
        return For(credential).GetTokenAsync(cancellationToken);
    }

    public void Remove(RapidSosCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        _directory.RemoveEverywhere(credential);
    }

    /// <summary>Drops <paramref name="credential"/>'s set from this registration.</summary>
    public void RemoveHere(RapidSosCredential credential)
    {
        if (credential.Slot is { } slot && slot.IsOwnedBy(this))
        {
            credential.Slot = null;
        }

        TokenLifecycle? released;
        lock (_gate)
        {
            if (!_sets.TryRemove(CredentialKey.Of(credential), out var set))
            {
                return;
            }

            released = set.Drop(forget: true);
        }

        if (released is not null)
        {
            // A sign-out: the fleet's copy of the token goes too, so the next use anywhere starts from nothing.
            released.Shared?.Forget();
            _store.Release(released);
        }
    }

    /// <summary>The set serving <paramref name="credential"/>, created on first use (dropping the least recently used beyond the maximum).</summary>
    /// <exception cref="ObjectDisposedException">The container was disposed.</exception>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The registration's options are invalid.</exception>
    public CredentialSet For(RapidSosCredential credential)
    {
        if (credential.Slot is { } cached && _endpoints is { } endpoints && cached.IsCurrentIn(this, endpoints))
        {
            cached.Touch();
            return cached;
        }

        return ForSlow(credential);
    }

    public void Dispose()
    {
        List<TokenLifecycle> released;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            released = DropAll(forget: true);
        }

        _subscription.Dispose();
        _directory.Remove(this);
        foreach (var lifecycle in released)
        {
            _store.Release(lifecycle, disposing: true);
        }
    }

    private CredentialSet ForSlow(RapidSosCredential credential)
    {
        var key = CredentialKey.Of(credential);
        var endpoints = Endpoints();
        if (!_sets.TryGetValue(key, out var set) || !set.IsCurrentIn(this, endpoints))
        {
            List<TokenLifecycle>? evicted = null;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                endpoints = Endpoints();
                if (!_sets.TryGetValue(key, out set) || !set.IsCurrentIn(this, endpoints))
                {
                    if (set is not null && _sets.TryRemove(key, out var stale) && stale.Drop(forget: false) is { } staleLifecycle)
                    {
                        (evicted ??= []).Add(staleLifecycle);
                    }

                    evicted = EvictLeastRecentlyUsed(_max - 1, evicted);
                    set = new CredentialSet(this, endpoints, key, credential, _store.Acquire(TokenRequestSettings.ForCredential(_name, endpoints, credential)));
                    _sets[key] = set;
                }
            }

            if (evicted is not null)
            {
                foreach (var lifecycle in evicted)
                {
                    _store.Release(lifecycle);
                }
            }
        }

        set.Touch();
        credential.Slot = set;
        return set;
    }

    /// <summary>
    /// Drops least recently used sets until at most <paramref name="keep"/> remain. Under churn it drops a batch
    /// (a 64th of the maximum) at a time, so a full table costs one sort per batch of new sets, not one per set.
    /// </summary>
    private List<TokenLifecycle>? EvictLeastRecentlyUsed(int keep, List<TokenLifecycle>? evicted)
    {
        var excess = _sets.Count - keep;
        if (excess <= 0)
        {
            return evicted;
        }

        var drop = Math.Min(_sets.Count, Math.Max(excess, (keep + 1) / 64));
        var oldest = _sets.Values.ToArray();
        Array.Sort(oldest, static (a, b) => a.LastUsed.CompareTo(b.LastUsed));
        for (var i = 0; i < drop; i++)
        {
            if (_sets.TryRemove(new KeyValuePair<CredentialKey, CredentialSet>(oldest[i].Key, oldest[i])) && oldest[i].Drop(forget: false) is { } lifecycle)
            {
                (evicted ??= []).Add(lifecycle);
            }
        }

        return evicted;
    }

    private RegistrationEndpoints Endpoints()
    {
        if (_endpoints is { } endpoints)
        {
            return endpoints;
        }

        lock (_gate)
        {
            if (_endpoints is null)
            {
                // IOptionsMonitor has validated these options; a bad configuration throws here, naming every problem.
                var options = _changes.Monitor.Get(_name);
                _max = options.MaxCredentialSets;
                _endpoints = RegistrationEndpoints.From(options);
            }

            return _endpoints;
        }
    }

    private void OnOptionsChanged(RapidSosAuthOptions options)
    {
        var next = RegistrationEndpoints.From(options);
        List<TokenLifecycle>? released;
        lock (_gate)
        {
            if (_disposed || _endpoints is not { } current)
            {
                // Not used yet: the first use reads the new options.
                return;
            }

            _max = options.MaxCredentialSets;
            if (current.SendsLike(next))
            {
                // Same token requests: every set keeps its token; a lower maximum drops the least recently used.
                released = EvictLeastRecentlyUsed(_max, null);
            }
            else
            {
                _endpoints = next;
                released = DropAll(forget: false);
            }
        }

        foreach (var lifecycle in released ?? [])
        {
            _store.Release(lifecycle);
        }
    }

    private List<TokenLifecycle> DropAll(bool forget)
    {
        var released = new List<TokenLifecycle>(_sets.Count);
        foreach (var set in _sets.Values)
        {
            if (set.Drop(forget) is { } lifecycle)
            {
                released.Add(lifecycle);
            }
        }

        _sets.Clear();
        return released;
    }
}
