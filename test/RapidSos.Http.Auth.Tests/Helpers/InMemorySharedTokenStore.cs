using System.Collections.Concurrent;

namespace RapidSos.Http.Auth.Tests.Helpers;

/// <summary>
/// A shared token store in memory, on a <see cref="TimeProvider"/>, that several containers ("instances") share:
/// values and leases expire on that clock, writes wake waiters as the contract says. Faults on demand: every call
/// throws (<see cref="Failing"/>) or never answers (<see cref="Hanging"/>). Records every key and value written.
/// </summary>
internal sealed class InMemorySharedTokenStore : IRapidSosSharedTokenStore
{
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, (byte[] Value, DateTimeOffset ExpiresAt)> _values = [];
    private readonly List<(string Key, TaskCompletionSource Changed)> _waiters = [];
    private int _gets;

    public InMemorySharedTokenStore(TimeProvider time, TimeSpan? operationTimeout = null)
    {
        _time = time;
        OperationTimeout = operationTimeout ?? TimeSpan.FromMilliseconds(250);
    }

    public TimeSpan OperationTimeout { get; }

    /// <summary>Every call throws.</summary>
    public bool Failing { get; set; }

    /// <summary>Every call waits until cancelled (and the library's own timeout gives up first).</summary>
    public bool Hanging { get; set; }

    /// <summary><see cref="WaitForChangeAsync"/> throws before it returns.</summary>
    public bool WaitThrows { get; set; }

    /// <summary><see cref="WaitForChangeAsync"/> never completes, whatever its timeout (a store that breaks its contract).</summary>
    public bool WaitNeverEnds { get; set; }

    public int Gets => Volatile.Read(ref _gets);

    /// <summary>How many callers wait for a change right now.</summary>
    public int Waiting
    {
        get
        {
            lock (_gate)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>Every key and value ever written.</summary>
    public ConcurrentQueue<(string Key, byte[] Value)> Written { get; } = new();

    public IReadOnlyDictionary<string, byte[]> Snapshot()
    {
        lock (_gate)
        {
            Expire();
            return _values.ToDictionary(e => e.Key, e => e.Value.Value);
        }
    }

    /// <summary>Writes a raw value, as someone with write access to the store would.</summary>
    public void Put(string key, byte[] value, TimeSpan timeToLive)
    {
        lock (_gate)
        {
            _values[key] = (value, _time.GetUtcNow() + timeToLive);
        }
    }

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        await FaultAsync(cancellationToken);
        Interlocked.Increment(ref _gets);
        lock (_gate)
        {
            Expire();
            return _values.TryGetValue(key, out var entry) ? entry.Value.ToArray() : null;
        }
    }

    public async ValueTask SetAsync(string key, byte[] value, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        Assert.That(timeToLive, Is.GreaterThan(TimeSpan.Zero), "the library never stores with a time to live of zero or less");
        await FaultAsync(cancellationToken);
        Written.Enqueue((key, value.ToArray()));
        lock (_gate)
        {
            _values[key] = (value.ToArray(), _time.GetUtcNow() + timeToLive);
        }

        Notify(key);
    }

    public async ValueTask<bool> DeleteIfEqualAsync(string key, byte[] expected, CancellationToken cancellationToken)
    {
        await FaultAsync(cancellationToken);
        lock (_gate)
        {
            Expire();
            if (!_values.TryGetValue(key, out var entry) || !entry.Value.AsSpan().SequenceEqual(expected))
            {
                return false;
            }

            _values.Remove(key);
        }

        Notify(key);
        return true;
    }

    public async ValueTask<bool> TryAcquireLeaseAsync(string key, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        await FaultAsync(cancellationToken);
        var ownerBytes = System.Text.Encoding.UTF8.GetBytes(owner);
        lock (_gate)
        {
            Expire();
            if (_values.TryGetValue(key, out var entry) && !entry.Value.AsSpan().SequenceEqual(ownerBytes))
            {
                return false;
            }

            _values[key] = (ownerBytes, _time.GetUtcNow() + lease);
            return true;
        }
    }

    public async ValueTask<bool> ReleaseLeaseAsync(string key, string owner, CancellationToken cancellationToken) =>
        await DeleteIfEqualAsync(key, System.Text.Encoding.UTF8.GetBytes(owner), cancellationToken);

    public ValueTask WaitForChangeAsync(string key, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (WaitThrows)
        {
            throw new InvalidOperationException("The in-memory store's wait is failing on purpose.");
        }

        if (WaitNeverEnds)
        {
            return new ValueTask(new TaskCompletionSource().Task);
        }

        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _waiters.Add((key, changed));
        }

        return new ValueTask(WaitAsync(changed, timeout, cancellationToken));
    }

    /// <summary>Holds a lease for an owner that is not the library (an instance that died holding it).</summary>
    public void HoldLease(string key, TimeSpan lease) => Put(key, "a-dead-instance"u8.ToArray(), lease);

    private async Task WaitAsync(TaskCompletionSource changed, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await changed.Task.WaitAsync(timeout, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            // The contract: a timeout completes the wait without a fault.
        }
        finally
        {
            lock (_gate)
            {
                _waiters.RemoveAll(w => w.Changed == changed);
            }
        }
    }

    private void Notify(string key)
    {
        List<TaskCompletionSource> woken;
        lock (_gate)
        {
            woken = _waiters.Where(w => w.Key == key).Select(w => w.Changed).ToList();
        }

        woken.ForEach(w => w.TrySetResult());
    }

    private async Task FaultAsync(CancellationToken cancellationToken)
    {
        if (Failing)
        {
            throw new InvalidOperationException("The in-memory store is failing on purpose.");
        }

        if (Hanging)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    private void Expire()
    {
        var now = _time.GetUtcNow();
        foreach (var key in _values.Where(e => e.Value.ExpiresAt <= now).Select(e => e.Key).ToList())
        {
            _values.Remove(key);
        }
    }
}
