using Microsoft.Extensions.Time.Testing;
using RapidSos.Http.Auth.StackExchangeRedis.Internal;

namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.Internal;

/// <summary>The local waiters of the Redis store, on a fake clock: what completes them, and that nothing is left behind.</summary>
public sealed class ChangeWaitersTests
{
    private readonly FakeTimeProvider _time = new();

    [Test]
    public void Register_NoNotification_CompletesAtItsDeadlineAndNotBefore()
    {
        using var waiters = new ChangeWaiters(_time);
        var wait = waiters.Register("k", TimeSpan.FromSeconds(10), CancellationToken.None);

        _time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(1));
        Assert.That(wait.IsCompleted, Is.False);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(wait.Status, Is.EqualTo(TaskStatus.RanToCompletion));
    }

    [Test]
    public void Register_TimedOut_LeavesNothingBehind()
    {
        using var waiters = new ChangeWaiters(_time);
        var wait = waiters.Register("k", TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.That(waiters.KeyCount, Is.EqualTo(1));

        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.That((wait.IsCompletedSuccessfully, waiters.KeyCount), Is.EqualTo((true, 0)));
    }

    [Test]
    public void Register_ShorterDeadlineAfterALongerOne_EachCompletesAtItsOwn()
    {
        using var waiters = new ChangeWaiters(_time);
        var longer = waiters.Register("a", TimeSpan.FromSeconds(10), CancellationToken.None);
        var shorter = waiters.Register("b", TimeSpan.FromSeconds(1), CancellationToken.None);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That((shorter.IsCompleted, longer.IsCompleted), Is.EqualTo((true, false)));

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.That(longer.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public void Register_SeveralDeadlines_EachCompletesAtItsOwn()
    {
        using var waiters = new ChangeWaiters(_time);
        var waits = Enumerable.Range(1, 5).Reverse()
            .Select(seconds => (Seconds: seconds, Task: waiters.Register($"k{seconds % 2}", TimeSpan.FromSeconds(seconds), CancellationToken.None)))
            .ToList();

        for (var second = 1; second <= 5; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.That(waits.Where(w => w.Task.IsCompleted).Select(w => w.Seconds), Is.EquivalentTo(Enumerable.Range(1, second)), $"after {second} s");
        }

        Assert.That(waiters.KeyCount, Is.Zero);
    }

    [Test]
    public void Notify_CompletesEveryWaiterOfThatKeyAndNoOther()
    {
        using var waiters = new ChangeWaiters(_time);
        var first = waiters.Register("k", TimeSpan.FromSeconds(10), CancellationToken.None);
        var second = waiters.Register("k", TimeSpan.FromMinutes(10), CancellationToken.None);
        var other = waiters.Register("other", TimeSpan.FromSeconds(10), CancellationToken.None);

        waiters.Notify("k");

        Assert.Multiple(() =>
        {
            Assert.That(first.IsCompletedSuccessfully, Is.True);
            Assert.That(second.IsCompletedSuccessfully, Is.True);
            Assert.That(other.IsCompleted, Is.False);
            Assert.That(waiters.KeyCount, Is.EqualTo(1));
        });
    }

    [Test]
    public void Notify_KeysDifferOnlyInCase_AreDifferentKeys()
    {
        using var waiters = new ChangeWaiters(_time);
        var upper = waiters.Register("K", TimeSpan.FromSeconds(10), CancellationToken.None);

        waiters.Notify("k");

        Assert.That(upper.IsCompleted, Is.False);
    }

    [Test]
    public void Register_AfterANotification_WaitsForTheNextOne()
    {
        using var waiters = new ChangeWaiters(_time);
        var before = waiters.Register("k", TimeSpan.FromSeconds(10), CancellationToken.None);
        waiters.Notify("k");

        var after = waiters.Register("k", TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.That((before.IsCompleted, after.IsCompleted), Is.EqualTo((true, false)));

        waiters.Notify("k");
        Assert.That(after.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public void Register_NotifiedThenItsDeadlinePasses_StaysCompletedAndLeavesNothing()
    {
        using var waiters = new ChangeWaiters(_time);
        var notified = waiters.Register("k", TimeSpan.FromSeconds(1), CancellationToken.None);
        waiters.Notify("k");
        var next = waiters.Register("k", TimeSpan.FromSeconds(5), CancellationToken.None);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That((notified.IsCompletedSuccessfully, next.IsCompleted), Is.EqualTo((true, false)));

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.That((next.IsCompletedSuccessfully, waiters.KeyCount), Is.EqualTo((true, 0)));
    }

    [Test]
    public void Register_Cancelled_ThrowsOperationCanceledAndLeavesNothingBehind()
    {
        using var waiters = new ChangeWaiters(_time);
        using var cancellation = new CancellationTokenSource();
        var wait = waiters.Register("k", TimeSpan.FromSeconds(10), cancellation.Token);

        cancellation.Cancel();

        Assert.That(async () => await wait, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(waiters.KeyCount, Is.Zero);
    }

    [Test]
    public void Register_OneOfTwoCancelled_TheOtherStillWaits()
    {
        using var waiters = new ChangeWaiters(_time);
        using var cancellation = new CancellationTokenSource();
        var cancelled = waiters.Register("k", TimeSpan.FromSeconds(10), cancellation.Token);
        var kept = waiters.Register("k", TimeSpan.FromSeconds(10), CancellationToken.None);

        cancellation.Cancel();
        Assert.That((cancelled.IsCanceled, kept.IsCompleted), Is.EqualTo((true, false)));

        waiters.Notify("k");
        Assert.That(kept.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public void Register_AlreadyCancelled_IsCancelledAndRegistersNothing()
    {
        using var waiters = new ChangeWaiters(_time);

        var wait = waiters.Register("k", TimeSpan.FromSeconds(10), new CancellationToken(canceled: true));

        Assert.That((wait.IsCanceled, waiters.KeyCount), Is.EqualTo((true, 0)));
    }

    [Test]
    public void Register_NotifiedThenTokenCancelled_StaysCompleted()
    {
        using var waiters = new ChangeWaiters(_time);
        using var cancellation = new CancellationTokenSource();
        var wait = waiters.Register("k", TimeSpan.FromSeconds(10), cancellation.Token);

        waiters.Notify("k");
        cancellation.Cancel();

        Assert.That(wait.Status, Is.EqualTo(TaskStatus.RanToCompletion));
    }

    [Test]
    public void Register_CompletedWaitOnALongLivedToken_IsNotKeptByTheToken()
    {
        using var waiters = new ChangeWaiters(_time);
        using var applicationStopping = new CancellationTokenSource();

        var finished = NotifiedWait(waiters, applicationStopping.Token);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.That(finished.IsAlive, Is.False, "the token's registration still holds the finished wait");
    }

    [TestCase(0)]
    [TestCase(-5)]
    public void Register_NoTimeLeft_CompletesAtOnce(int milliseconds)
    {
        using var waiters = new ChangeWaiters(_time);

        var wait = waiters.Register("k", TimeSpan.FromMilliseconds(milliseconds), CancellationToken.None);

        Assert.That((wait.IsCompletedSuccessfully, waiters.KeyCount), Is.EqualTo((true, 0)));
    }

    [Test]
    public void Register_InfiniteTimeout_WaitsForANotification()
    {
        using var waiters = new ChangeWaiters(_time);
        var wait = waiters.Register("k", Timeout.InfiniteTimeSpan, CancellationToken.None);

        _time.Advance(TimeSpan.FromDays(400));
        Assert.That(wait.IsCompleted, Is.False);

        waiters.Notify("k");
        Assert.That(wait.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public void Register_HugeTimeout_DoesNotOverflowIntoThePast()
    {
        using var waiters = new ChangeWaiters(_time);

        var wait = waiters.Register("k", TimeSpan.MaxValue, CancellationToken.None);
        _time.Advance(TimeSpan.FromDays(400));

        Assert.That(wait.IsCompleted, Is.False);
    }

    [Test]
    public void Register_TimeoutLongerThanATimerTakes_CompletesAtItsDeadline()
    {
        using var waiters = new ChangeWaiters(_time);
        var wait = waiters.Register("k", TimeSpan.FromDays(60), CancellationToken.None);

        _time.Advance(TimeSpan.FromDays(60) - TimeSpan.FromMinutes(1));
        Assert.That(wait.IsCompleted, Is.False);

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.That(wait.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public void Dispose_CompletesEveryWaiter()
    {
        var waiters = new ChangeWaiters(_time);
        var first = waiters.Register("a", TimeSpan.FromSeconds(10), CancellationToken.None);
        var second = waiters.Register("b", Timeout.InfiniteTimeSpan, CancellationToken.None);

        waiters.Dispose();

        Assert.That((first.IsCompletedSuccessfully, second.IsCompletedSuccessfully, waiters.KeyCount), Is.EqualTo((true, true, 0)));
    }

    [Test]
    public void Register_AfterDispose_CompletesAtOnce()
    {
        var waiters = new ChangeWaiters(_time);
        waiters.Dispose();

        var wait = waiters.Register("k", TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.That((wait.IsCompletedSuccessfully, waiters.KeyCount), Is.EqualTo((true, 0)));
    }

    [Test]
    public void Register_CompletesWithoutRunningTheContinuationOnTheNotifyingThread()
    {
        using var waiters = new ChangeWaiters(_time);
        var wait = waiters.Register("k", TimeSpan.FromSeconds(10), CancellationToken.None);
        var notifyingThread = Environment.CurrentManagedThreadId;
        var continuationThread = wait.ContinueWith(_ => Environment.CurrentManagedThreadId, TaskContinuationOptions.ExecuteSynchronously);

        waiters.Notify("k");

        Assert.That(continuationThread.Result, Is.Not.EqualTo(notifyingThread));
    }

    [Test]
    public async Task RegisterAndNotify_Concurrently_NoWaiterIsLost()
    {
        using var waiters = new ChangeWaiters(_time);
        var keys = new[] { "a", "b", "c" };
        var waits = new System.Collections.Concurrent.ConcurrentBag<Task>();
        using var stop = new CancellationTokenSource();

        var notifier = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var key in keys)
                {
                    waiters.Notify(key);
                }
            }
        });
        await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 5_000; i++)
            {
                waits.Add(waiters.Register(keys[(worker + i) % keys.Length], Timeout.InfiniteTimeSpan, CancellationToken.None));
            }
        })));
        stop.Cancel();
        await notifier;

        // Every wait registered is in a list that the next notification of its key takes.
        foreach (var key in keys)
        {
            waiters.Notify(key);
        }

        Assert.That(waits.Count(w => !w.IsCompleted), Is.Zero);
        Assert.That(waiters.KeyCount, Is.Zero);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference NotifiedWait(ChangeWaiters waiters, CancellationToken token)
    {
        var wait = waiters.Register("k", Timeout.InfiniteTimeSpan, token);
        waiters.Notify("k");
        return new WeakReference(wait);
    }
}
