namespace RapidSos.Http.Auth.Tests.Probes;

/// <summary>
/// A shared token store that misbehaves on demand around a well-behaved one: each member can be replaced (to throw
/// synchronously, answer garbage, never complete, grant every lease...), every call can be made to complete
/// asynchronously as a networked store's do (<see cref="Asynchronous"/>), and every call is counted.
/// </summary>
internal sealed class HostileSharedTokenStore(IRapidSosSharedTokenStore inner) : IRapidSosSharedTokenStore
{
    private int _calls;
    private int _gets;
    private int _leases;

    public IRapidSosSharedTokenStore Inner { get; } = inner;

    /// <summary>Replaces the <see cref="OperationTimeout"/> getter.</summary>
    public Func<TimeSpan>? Timeout { get; set; }

    public Func<string, CancellationToken, ValueTask<byte[]?>>? Get { get; set; }

    public Func<string, byte[], TimeSpan, CancellationToken, ValueTask>? Set { get; set; }

    public Func<string, byte[], CancellationToken, ValueTask<bool>>? DeleteIfEqual { get; set; }

    public Func<string, string, TimeSpan, CancellationToken, ValueTask<bool>>? Lease { get; set; }

    public Func<string, string, CancellationToken, ValueTask<bool>>? Release { get; set; }

    public Func<string, TimeSpan, CancellationToken, ValueTask>? Wait { get; set; }

    /// <summary>
    /// Every call of the inner store completes after a yield to the thread pool, as a network round trip does, and
    /// is not sent if the library cancelled it meanwhile.
    /// </summary>
    public bool Asynchronous { get; set; }

    public int Calls => Volatile.Read(ref _calls);

    public int Gets => Volatile.Read(ref _gets);

    public int LeaseCalls => Volatile.Read(ref _leases);

    public TimeSpan OperationTimeout => Timeout is { } timeout ? timeout() : Inner.OperationTimeout;

    public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        Interlocked.Increment(ref _gets);
        return Get is { } get ? get(key, cancellationToken) : Later(() => Inner.GetAsync(key, cancellationToken), cancellationToken);
    }

    public ValueTask SetAsync(string key, byte[] value, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        return Set is { } set ? set(key, value, timeToLive, cancellationToken) : Later(() => Inner.SetAsync(key, value, timeToLive, cancellationToken), cancellationToken);
    }

    public ValueTask<bool> DeleteIfEqualAsync(string key, byte[] expected, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        return DeleteIfEqual is { } delete ? delete(key, expected, cancellationToken) : Later(() => Inner.DeleteIfEqualAsync(key, expected, cancellationToken), cancellationToken);
    }

    public ValueTask<bool> TryAcquireLeaseAsync(string key, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        Interlocked.Increment(ref _leases);
        return Lease is { } take ? take(key, owner, lease, cancellationToken) : Later(() => Inner.TryAcquireLeaseAsync(key, owner, lease, cancellationToken), cancellationToken);
    }

    public ValueTask<bool> ReleaseLeaseAsync(string key, string owner, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        return Release is { } release ? release(key, owner, cancellationToken) : Later(() => Inner.ReleaseLeaseAsync(key, owner, cancellationToken), cancellationToken);
    }

    public ValueTask WaitForChangeAsync(string key, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);

        // The wait is registered before this returns (the contract), so it is never deferred.
        return Wait is { } wait ? wait(key, timeout, cancellationToken) : Inner.WaitForChangeAsync(key, timeout, cancellationToken);
    }

    /// <summary>A task that never completes, whatever the cancellation token says.</summary>
    public static ValueTask<T> Never<T>() => new(new TaskCompletionSource<T>().Task);

    /// <summary>A task that never completes, whatever the cancellation token says.</summary>
    public static ValueTask Never() => new(new TaskCompletionSource().Task);

    private async ValueTask<T> Later<T>(Func<ValueTask<T>> call, CancellationToken cancellationToken)
    {
        if (Asynchronous)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
        }

        return await call();
    }

    private async ValueTask Later(Func<ValueTask> call, CancellationToken cancellationToken)
    {
        if (Asynchronous)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
        }

        await call();
    }
}
