using RapidSos.Http.Auth.StackExchangeRedis.Internal;
using RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;
using StackExchange.Redis;

namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.Integration;

/// <summary>
/// Change notifications between two instances, each a store with its own connection to one redis-server: a write
/// through one wakes the waits of the other, and nothing else does.
/// </summary>
/// <remarks>
/// A wait here is for an hour, so a wait that completes was woken by a notification. That something did not wake a
/// wait is seen after a later notification on the same channel has arrived: Redis delivers a channel's messages in
/// order, and the store dispatches them in order.
/// </remarks>
public sealed class RedisSharedTokenStoreNotificationTests
{
    private const string Prefix = "changes:";
    private static readonly TimeSpan s_hour = TimeSpan.FromHours(1);
    private static readonly byte[] s_value = [1, 2, 3];

    private RedisServer _server = null!;
    private ConnectionMultiplexer _raw = null!;
    private RedisSharedTokenStore _writer = null!;
    private RedisSharedTokenStore _watcher = null!;

    [OneTimeSetUp]
    public async Task StartRedisAndTwoInstances()
    {
        _server = await RedisServer.StartAsync();
        _raw = await TestStores.RawAsync(_server);
        _writer = TestStores.Create(_server, Prefix);
        _watcher = TestStores.Create(_server, Prefix);

        // Both connect (and subscribe) on first use.
        await _writer.GetAsync(TestStores.NewKey(), CancellationToken.None);
        await _watcher.GetAsync(TestStores.NewKey(), CancellationToken.None);
        await TestStores.SubscribedAsync(_raw, Prefix, 2);
    }

    [OneTimeTearDown]
    public async Task StopRedis()
    {
        await _writer.DisposeAsync();
        await _watcher.DisposeAsync();
        await _raw.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Test]
    public async Task WaitForChangeAsync_SetThroughAnotherInstance_Completes()
    {
        var key = TestStores.NewKey();
        var wait = _watcher.WaitForChangeAsync(key, s_hour, CancellationToken.None).AsTask();

        await _writer.SetAsync(key, s_value, s_hour, CancellationToken.None);

        await Outcome.CompletesAsync(() => wait);
    }

    [Test]
    public async Task WaitForChangeAsync_DeleteThroughAnotherInstance_Completes()
    {
        var key = TestStores.NewKey();
        await _writer.SetAsync(key, s_value, s_hour, CancellationToken.None);
        var wait = _watcher.WaitForChangeAsync(key, s_hour, CancellationToken.None).AsTask();

        Assert.That(await _writer.DeleteIfEqualAsync(key, s_value, CancellationToken.None), Is.True);

        await Outcome.CompletesAsync(() => wait);
    }

    [Test]
    public async Task WaitForChangeAsync_ReleaseThroughAnotherInstance_Completes()
    {
        var key = TestStores.NewKey("lock");
        await _writer.TryAcquireLeaseAsync(key, "owner-1", s_hour, CancellationToken.None);
        var wait = _watcher.WaitForChangeAsync(key, s_hour, CancellationToken.None).AsTask();

        Assert.That(await _writer.ReleaseLeaseAsync(key, "owner-1", CancellationToken.None), Is.True);

        await Outcome.CompletesAsync(() => wait);
    }

    [Test]
    public async Task WaitForChangeAsync_WriteThroughTheSameInstance_Completes()
    {
        var key = TestStores.NewKey();
        var wait = _writer.WaitForChangeAsync(key, s_hour, CancellationToken.None).AsTask();

        await _writer.SetAsync(key, s_value, s_hour, CancellationToken.None);

        await Outcome.CompletesAsync(() => wait);
    }

    [Test]
    public async Task WaitForChangeAsync_ManyWaitsEachFollowedAtOnceByAChange_NoneIsMissed()
    {
        for (var i = 0; i < 50; i++)
        {
            var key = TestStores.NewKey();

            // No await between the call and the change: the wait is registered by the time the call returns.
            var wait = _watcher.WaitForChangeAsync(key, s_hour, CancellationToken.None);
            await _writer.SetAsync(key, s_value, s_hour, CancellationToken.None);

            await Outcome.CompletesAsync(() => wait.AsTask());
        }
    }

    [Test]
    public async Task WaitForChangeAsync_SeveralWaitersOfOneKey_AllComplete()
    {
        var key = TestStores.NewKey();
        var waits = Enumerable.Range(0, 3).Select(_ => _watcher.WaitForChangeAsync(key, s_hour, CancellationToken.None).AsTask()).ToArray();

        await _writer.SetAsync(key, s_value, s_hour, CancellationToken.None);

        await Outcome.CompletesAsync(() => Task.WhenAll(waits));
    }

    [Test]
    public async Task WaitForChangeAsync_ChangeOfAnotherKey_DoesNotComplete()
    {
        var key = TestStores.NewKey();
        var other = TestStores.NewKey();
        var sentinel = TestStores.NewKey();
        var wait = _watcher.WaitForChangeAsync(key, s_hour, CancellationToken.None).AsTask();
        var sentinelWait = _watcher.WaitForChangeAsync(sentinel, s_hour, CancellationToken.None).AsTask();

        await _writer.SetAsync(other, s_value, s_hour, CancellationToken.None);
        await _writer.SetAsync(sentinel, s_value, s_hour, CancellationToken.None);
        await Outcome.CompletesAsync(() => sentinelWait);

        Assert.That(wait.IsCompleted, Is.False);
    }

    [Test]
    public async Task WaitForChangeAsync_NoChange_CompletesAtTheTimeoutWithoutFault()
    {
        var wait = _watcher.WaitForChangeAsync(TestStores.NewKey(), TimeSpan.FromMilliseconds(50), CancellationToken.None).AsTask();

        await Outcome.CompletesAsync(() => wait);

        Assert.That(wait.Status, Is.EqualTo(TaskStatus.RanToCompletion));
    }

    [Test]
    public async Task WaitForChangeAsync_Cancelled_ThrowsOperationCanceled()
    {
        using var cancellation = new CancellationTokenSource();
        var wait = _watcher.WaitForChangeAsync(TestStores.NewKey(), s_hour, cancellation.Token).AsTask();

        cancellation.Cancel();

        Assert.That(await Outcome.ThrownByAsync(() => wait), Is.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task Writes_PublishTheUnprefixedKeyOnThePrefixedChannel()
    {
        var key = TestStores.NewKey();
        var lease = TestStores.NewKey("lock");
        var messages = await _raw.GetSubscriber().SubscribeAsync(RedisChannel.Literal(Prefix + "v1:changes"));
        try
        {
            await _writer.SetAsync(key, s_value, s_hour, CancellationToken.None);
            await _writer.DeleteIfEqualAsync(key, s_value, CancellationToken.None);
            await _writer.TryAcquireLeaseAsync(lease, "owner-1", s_hour, CancellationToken.None);
            await _writer.ReleaseLeaseAsync(lease, "owner-1", CancellationToken.None);

            // Taking a lease is no change that anyone waits for: three messages, not four.
            var received = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                received.Add((string)(await messages.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30))).Message!);
            }

            Assert.That(received, Is.EqualTo(new[] { key, key, lease }));
        }
        finally
        {
            await messages.UnsubscribeAsync();
        }
    }

    [Test]
    public async Task FailedCompareAndDelete_PublishesNothing()
    {
        var key = TestStores.NewKey();
        var lease = TestStores.NewKey("lock");
        var sentinel = TestStores.NewKey();
        await _writer.SetAsync(key, s_value, s_hour, CancellationToken.None);
        await _writer.TryAcquireLeaseAsync(lease, "owner-1", s_hour, CancellationToken.None);
        var messages = await _raw.GetSubscriber().SubscribeAsync(RedisChannel.Literal(Prefix + "v1:changes"));
        try
        {
            Assert.That(await _writer.DeleteIfEqualAsync(key, [9, 9], CancellationToken.None), Is.False);
            Assert.That(await _writer.ReleaseLeaseAsync(lease, "owner-2", CancellationToken.None), Is.False);
            Assert.That(await _writer.DeleteIfEqualAsync(TestStores.NewKey(), s_value, CancellationToken.None), Is.False);
            await _writer.SetAsync(sentinel, s_value, s_hour, CancellationToken.None);

            var first = await messages.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.That((string?)first.Message, Is.EqualTo(sentinel));
        }
        finally
        {
            await messages.UnsubscribeAsync();
        }
    }
}
