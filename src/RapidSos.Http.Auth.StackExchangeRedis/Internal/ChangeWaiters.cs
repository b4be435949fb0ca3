using System.Collections.Concurrent;

namespace RapidSos.Http.Auth.StackExchangeRedis.Internal;

/// <summary>
/// The local waiters of <see cref="RedisSharedTokenStore.WaitForChangeAsync"/>, by key: a change notification for a key
/// completes all of its waiters, and each waiter also completes at its deadline or throws when its token is cancelled.
/// </summary>
/// <remarks>
/// <para>
/// Deadlines share one timer, armed for the earliest of them, instead of a timer per waiter. A waiter completed by a
/// notification or a cancellation stays in the deadline queue until its deadline comes round (removing from the middle
/// of a heap is not worth it): the queue holds at most the waits begun within the longest timeout.
/// </para>
/// <para>
/// Waiters complete with <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/>: a notification arrives on
/// StackExchange.Redis's reader, and the timer on a timer thread, neither of which may run the caller's continuation.
/// </para>
/// </remarks>
internal sealed class ChangeWaiters : IDisposable
{
    private static readonly TimeSpan s_minimumDue = TimeSpan.FromMilliseconds(1);

    // Timers take at most about 49 days; a later deadline is reached by re-arming when this much has passed.
    private static readonly TimeSpan s_maximumDue = TimeSpan.FromDays(1);

    private readonly ConcurrentDictionary<string, WaiterList> _byKey = new(StringComparer.Ordinal);
    private readonly PriorityQueue<Waiter, long> _deadlines = new();
    private readonly object _deadlineGate = new();
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private long _armedFor = long.MaxValue;
    private bool _disposed;

    public ChangeWaiters(TimeProvider time)
    {
        _time = time;

        // The timer must not hold on to whatever ExecutionContext (Activity, AsyncLocals) the store was built in.
        var suppressed = ExecutionContext.IsFlowSuppressed() ? (AsyncFlowControl?)null : ExecutionContext.SuppressFlow();
        try
        {
            _timer = time.CreateTimer(static state => ((ChangeWaiters)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        finally
        {
            suppressed?.Undo();
        }
    }

    /// <summary>The keys that have waiters now (for tests: a completed wait leaves nothing behind).</summary>
    internal int KeyCount => _byKey.Count;

    /// <summary>
    /// Registers a waiter for <paramref name="key"/> before it returns, so a <see cref="Notify"/> after this call
    /// completes it.
    /// </summary>
    /// <param name="key">The key to watch.</param>
    /// <param name="timeout">The longest wait: at most that long, or <see cref="Timeout.InfiniteTimeSpan"/>; zero or less completes at once.</param>
    /// <param name="cancellationToken">Cancels the wait: the task is then cancelled.</param>
    /// <returns>A task that completes on a notification for <paramref name="key"/>, at the deadline, or on disposal; it is cancelled with <paramref name="cancellationToken"/>.</returns>
    public Task Register(string key, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            return Task.CompletedTask;
        }

        var waiter = new Waiter(this, key, DeadlineAfter(timeout));
        AddToKey(waiter);
        if (waiter.Deadline != long.MaxValue)
        {
            AddDeadline(waiter);
        }

        if (cancellationToken.CanBeCanceled)
        {
            waiter.Watch(cancellationToken);
        }

        return waiter.Task;
    }

    /// <summary>Completes every waiter of <paramref name="key"/> registered before this call.</summary>
    /// <param name="key">The key that changed.</param>
    public void Notify(string key)
    {
        if (!_byKey.TryRemove(key, out var list))
        {
            return;
        }

        Waiter[] waiters;
        lock (list)
        {
            list.Closed = true;
            waiters = [.. list];
        }

        foreach (var waiter in waiters)
        {
            waiter.Complete(removeFromKey: false);
        }
    }

    /// <summary>Stops the timer and completes every waiter; a waiter registered afterwards completes at once.</summary>
    public void Dispose()
    {
        lock (_deadlineGate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _deadlines.Clear();
        }

        _timer.Dispose();
        foreach (var key in _byKey.Keys)
        {
            Notify(key);
        }
    }

    private long DeadlineAfter(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return long.MaxValue;
        }

        var now = _time.GetTimestamp();
        var ticks = Math.Ceiling(timeout.TotalSeconds * _time.TimestampFrequency);
        return ticks >= long.MaxValue - now ? long.MaxValue - 1 : now + (long)ticks;
    }

    private void AddToKey(Waiter waiter)
    {
        while (true)
        {
            var list = _byKey.GetOrAdd(waiter.Key, static _ => new WaiterList());
            lock (list)
            {
                // A closed list has just been taken by a notification or emptied: it is (being) removed, so add
                // to the next one.
                if (!list.Closed)
                {
                    list.Add(waiter);
                    return;
                }
            }
        }
    }

    private void RemoveFromKey(Waiter waiter)
    {
        if (!_byKey.TryGetValue(waiter.Key, out var list))
        {
            return;
        }

        lock (list)
        {
            if (!list.Closed && list.Remove(waiter) && list.Count == 0)
            {
                list.Closed = true;
                _byKey.TryRemove(new KeyValuePair<string, WaiterList>(waiter.Key, list));
            }
        }
    }

    private void AddDeadline(Waiter waiter)
    {
        lock (_deadlineGate)
        {
            if (!_disposed)
            {
                _deadlines.Enqueue(waiter, waiter.Deadline);
                if (waiter.Deadline < _armedFor)
                {
                    Arm(waiter.Deadline, _time.GetTimestamp());
                }

                return;
            }
        }

        // Registered while the store was being disposed: nothing will ever time it out.
        waiter.Complete(removeFromKey: true);
    }

    private void OnTimer()
    {
        List<Waiter>? expired = null;
        lock (_deadlineGate)
        {
            if (_disposed)
            {
                return;
            }

            var now = _time.GetTimestamp();
            while (_deadlines.TryPeek(out var waiter, out var deadline))
            {
                if (!waiter.Task.IsCompleted && deadline > now)
                {
                    break;
                }

                _deadlines.Dequeue();
                if (!waiter.Task.IsCompleted)
                {
                    (expired ??= []).Add(waiter);
                }
            }

            _armedFor = long.MaxValue;
            if (_deadlines.TryPeek(out _, out var next))
            {
                Arm(next, now);
            }
        }

        if (expired is not null)
        {
            foreach (var waiter in expired)
            {
                waiter.Complete(removeFromKey: true);
            }
        }
    }

    // Under _deadlineGate. At least a millisecond, so the timer never fires on the arming thread (a fake clock's
    // would, re-entering the lock), and a timer that fires early (or at the longest due time) just re-arms.
    private void Arm(long deadline, long now)
    {
        _armedFor = deadline;
        var due = _time.GetElapsedTime(now, deadline);
        _timer.Change(due < s_minimumDue ? s_minimumDue : due > s_maximumDue ? s_maximumDue : due, Timeout.InfiniteTimeSpan);
    }

    private sealed class WaiterList : List<Waiter>
    {
        /// <summary>Taken by a notification, or emptied and removed: no waiter may be added to it. Under the list's lock.</summary>
        public bool Closed { get; set; }
    }

    private sealed class Waiter(ChangeWaiters owner, string key, long deadline) : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        private CancellationTokenRegistration _registration;

        public string Key { get; } = key;

        public long Deadline { get; } = deadline;

        public void Watch(CancellationToken cancellationToken)
        {
            var registration = cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Cancel(token), this);

            // A completion that read the registration before it was set cannot release it: release it here.
            lock (this)
            {
                if (!Task.IsCompleted)
                {
                    _registration = registration;
                    return;
                }
            }

            registration.Unregister();
        }

        public void Complete(bool removeFromKey)
        {
            if (!TrySetResult())
            {
                return;
            }

            if (removeFromKey)
            {
                owner.RemoveFromKey(this);
            }

            // A long-lived token (an application's stopping token) must not keep a registration per finished wait.
            CancellationTokenRegistration registration;
            lock (this)
            {
                registration = _registration;
                _registration = default;
            }

            registration.Unregister();
        }

        private void Cancel(CancellationToken cancellationToken)
        {
            if (TrySetCanceled(cancellationToken))
            {
                owner.RemoveFromKey(this);
            }
        }
    }
}
