using Microsoft.Extensions.Time.Testing;
using RapidSos.Http.Auth.StackExchangeRedis.Internal;
using RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;
using StackExchange.Redis;

namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.Integration;

/// <summary>
/// Where the store's connection comes from and who closes it: the application's (from the factory: used, never
/// disposed, a failing factory tried again later) or its own (from the configuration: closed with the store).
/// </summary>
public sealed class RedisSharedTokenStoreConnectionTests
{
    private const string Prefix = "connection:";
    private static readonly TimeSpan s_hour = TimeSpan.FromHours(1);
    private static readonly byte[] s_value = [1, 2, 3];

    private RedisServer _server = null!;
    private ConnectionMultiplexer _raw = null!;

    [OneTimeSetUp]
    public async Task StartRedis()
    {
        _server = await RedisServer.StartAsync();
        _raw = await TestStores.RawAsync(_server);
    }

    [OneTimeTearDown]
    public async Task StopRedis()
    {
        await _raw.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Test]
    public async Task Factory_ItsConnection_IsUsedAndAskedForOnce()
    {
        var calls = 0;
        await using var store = FactoryStore(() =>
        {
            Interlocked.Increment(ref calls);
            return Task.FromResult<IConnectionMultiplexer>(_raw);
        });
        var key = TestStores.NewKey();

        await store.SetAsync(key, s_value, s_hour, CancellationToken.None);
        await store.GetAsync(key, CancellationToken.None);
        await store.WaitForChangeAsync(key, TimeSpan.Zero, CancellationToken.None);

        Assert.That(calls, Is.EqualTo(1));
        Assert.That((byte[]?)await _raw.GetDatabase().StringGetAsync(Prefix + key), Is.EqualTo(s_value));
    }

    [TestCase(false, TestName = "{m}(Dispose)")]
    [TestCase(true, TestName = "{m}(DisposeAsync)")]
    public async Task Factory_StoreDisposed_ConnectionStaysOpenWithoutTheStoresSubscription(bool asynchronously)
    {
        var ownPrefix = $"factory-subscription-{asynchronously}:";
        var store = FactoryStore(() => Task.FromResult<IConnectionMultiplexer>(_raw), keyPrefix: ownPrefix);
        await store.GetAsync(TestStores.NewKey(), CancellationToken.None);
        await TestStores.SubscribedAsync(_raw, ownPrefix, 1);

        if (asynchronously)
        {
            await store.DisposeAsync();
        }
        else
        {
            store.Dispose();
        }

        Assert.That(_raw.IsConnected, Is.True);
        Assert.That(await _raw.GetDatabase().PingAsync(), Is.GreaterThanOrEqualTo(TimeSpan.Zero));
        await TestStores.SubscribedAsync(_raw, ownPrefix, 0);
    }

    [Test]
    public async Task Factory_Throws_CallsThrowItsExceptionAndItIsTriedAgainASecondLater()
    {
        var time = new FakeTimeProvider();
        var calls = 0;
        await using var store = FactoryStore(
            () => Interlocked.Increment(ref calls) == 1
                ? throw new InvalidOperationException("the application's Redis is not configured yet")
                : Task.FromResult<IConnectionMultiplexer>(_raw),
            time: time);
        var key = TestStores.NewKey();

        Assert.That(await Outcome.ThrownByAsync(() => store.GetAsync(key, CancellationToken.None).AsTask()), Is.InstanceOf<InvalidOperationException>());
        Assert.That(await Outcome.ThrownByAsync(() => store.GetAsync(key, CancellationToken.None).AsTask()), Is.InstanceOf<InvalidOperationException>());
        Assert.That(calls, Is.EqualTo(1), "not again within the second");

        time.Advance(RedisSharedTokenStore.ConnectRetryInterval);
        await store.SetAsync(key, s_value, s_hour, CancellationToken.None);

        Assert.That(calls, Is.EqualTo(2));
        Assert.That(await store.GetAsync(key, CancellationToken.None), Is.EqualTo(s_value));
    }

    [Test]
    public async Task Factory_ReturnsAFaultedTask_CallsThrowAndItIsTriedAgainLater()
    {
        var time = new FakeTimeProvider();
        var calls = 0;
        await using var store = FactoryStore(
            () => Interlocked.Increment(ref calls) == 1
                ? Task.FromException<IConnectionMultiplexer>(new RedisConnectionException(ConnectionFailureType.UnableToConnect, "down"))
                : Task.FromResult<IConnectionMultiplexer>(_raw),
            time: time);

        Assert.That(await Outcome.ThrownByAsync(() => store.GetAsync(TestStores.NewKey(), CancellationToken.None).AsTask()), Is.InstanceOf<RedisConnectionException>());
        time.Advance(RedisSharedTokenStore.ConnectRetryInterval);

        Assert.That(await store.GetAsync(TestStores.NewKey(), CancellationToken.None), Is.Null);
        Assert.That(calls, Is.EqualTo(2));
    }

    [Test]
    public async Task Factory_ReturnsNull_CallsThrowNamingTheFactory()
    {
        await using var store = FactoryStore(() => Task.FromResult<IConnectionMultiplexer>(null!));

        var thrown = await Outcome.ThrownByAsync(() => store.GetAsync(TestStores.NewKey(), CancellationToken.None).AsTask());

        Assert.That(thrown, Is.InstanceOf<InvalidOperationException>().With.Message.Contains("ConnectionMultiplexerFactory"));
    }

    [Test]
    public async Task Factory_NeverCompletes_CallsTimeOutAndDoNotAskAgain()
    {
        var calls = 0;
        var never = new TaskCompletionSource<IConnectionMultiplexer>();
        await using var store = FactoryStore(
            () =>
            {
                Interlocked.Increment(ref calls);
                return never.Task;
            },
            operationTimeout: TestStores.Short);

        Assert.That(await Outcome.ThrownByAsync(() => store.GetAsync(TestStores.NewKey(), CancellationToken.None).AsTask()), Is.InstanceOf<TimeoutException>());
        Assert.That(await Outcome.ThrownByAsync(() => store.SetAsync(TestStores.NewKey(), s_value, s_hour, CancellationToken.None).AsTask()), Is.InstanceOf<TimeoutException>());
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public async Task Factory_BlocksItsCaller_CallsStillTimeOut()
    {
        // A factory written synchronously (it connects before it returns a task) must not block a token request.
        using var release = new ManualResetEventSlim();
        await using var store = FactoryStore(
            () =>
            {
                release.Wait(TimeSpan.FromSeconds(30));
                return Task.FromResult<IConnectionMultiplexer>(_raw);
            },
            operationTimeout: TestStores.Short);
        try
        {
            Assert.That(await Outcome.ThrownByAsync(() => store.GetAsync(TestStores.NewKey(), CancellationToken.None).AsTask()), Is.InstanceOf<TimeoutException>());
        }
        finally
        {
            release.Set();
        }

        await Outcome.EventuallyAsync(async () => await store.GetAsync(TestStores.NewKey(), CancellationToken.None) is null, "the store to connect once the factory returns");
    }

    [Test]
    public async Task Configuration_StoreDisposed_ClosesItsOwnConnections()
    {
        var store = TestStores.Create(_server, Prefix);
        await store.GetAsync(TestStores.NewKey(), CancellationToken.None);
        await Poll.UntilAsync(() => TestStores.StoreConnections(_raw) == 2, "the store's interactive and subscription connections");

        store.Dispose();

        await Poll.UntilAsync(() => TestStores.StoreConnections(_raw) == 0, "the store's connections to close");
    }

    [Test]
    public async Task Configuration_StoreDisposedAsynchronously_ClosesItsOwnConnections()
    {
        var store = TestStores.Create(_server, Prefix);
        await store.GetAsync(TestStores.NewKey(), CancellationToken.None);
        await Poll.UntilAsync(() => TestStores.StoreConnections(_raw) == 2, "the store's interactive and subscription connections");

        await store.DisposeAsync();

        await Poll.UntilAsync(() => TestStores.StoreConnections(_raw) == 0, "the store's connections to close");
    }

    [TestCase(false, TestName = "{m}(Dispose)")]
    [TestCase(true, TestName = "{m}(DisposeAsync)")]
    public async Task Configuration_StoreDisposedWhileConnecting_ClosesTheConnectionOnceMade(bool asynchronously)
    {
        // A stalled Redis holds the connection attempt; a store that is not disposed shows when attempts get through.
        await using var server = await RedisServer.StartAsync();
        await using var raw = await TestStores.RawAsync(server);
        await server.PauseAsync();
        var disposed = TestStores.Create(server, operationTimeout: TestStores.Short);
        await using var kept = TestStores.Create(server, operationTimeout: TestStores.Short, clientName: "kept-store");
        try
        {
            await Outcome.ThrownByAsync(() => disposed.GetAsync(TestStores.NewKey(), CancellationToken.None).AsTask());
            await Outcome.ThrownByAsync(() => kept.GetAsync(TestStores.NewKey(), CancellationToken.None).AsTask());
            if (asynchronously)
            {
                await disposed.DisposeAsync();
            }
            else
            {
                disposed.Dispose();
            }
        }
        finally
        {
            await server.ResumeAsync();
        }

        await Poll.UntilAsync(() => TestStores.StoreConnections(raw, "kept-store") == 2, "the kept store to connect");
        await Poll.UntilAsync(() => TestStores.StoreConnections(raw) == 0, "the disposed store's connection to close");
    }

    [Test]
    public async Task Configuration_AbortConnectSet_RedisDownStillDoesNotStickAsAFailure()
    {
        // abortConnect=true would make the first connection attempt fail for good while Redis is down; the store
        // turns it off, so its one connection comes up by itself when Redis does (no new attempt, no 1 s wait).
        await using var server = await RedisServer.StartAsync();
        await server.KillAsync();
        var time = new FakeTimeProvider();
        await using var store = new RedisSharedTokenStore(
            new RapidSosRedisTokenCacheOptions { Configuration = TestStores.Configuration(server) + ",abortConnect=true", OperationTimeout = TestStores.Short },
            time);
        await Outcome.ThrownByAsync(() => store.GetAsync(TestStores.NewKey(), CancellationToken.None).AsTask());

        await server.StartAgainAsync();

        // The fake clock never reaches the retry interval: only the first connection can serve this.
        await Outcome.EventuallyAsync(
            async () =>
            {
                try
                {
                    return await store.GetAsync(TestStores.NewKey(), CancellationToken.None).AsTask().WaitAsync(TestStores.Generous) is null;
                }
                catch (TimeoutException)
                {
                    return false;
                }
            },
            "the store's first connection to come up with Redis");
    }

    [Test]
    public async Task Store_Disposed_CompletesItsWaitsAndRefusesCalls()
    {
        var store = TestStores.Create(_server, Prefix);
        var wait = store.WaitForChangeAsync(TestStores.NewKey(), s_hour, CancellationToken.None).AsTask();

        await store.DisposeAsync();

        await Outcome.CompletesAsync(() => wait);
        Assert.Multiple(async () =>
        {
            Assert.That(await Outcome.ThrownByAsync(() => store.GetAsync(TestStores.NewKey(), CancellationToken.None).AsTask()), Is.InstanceOf<ObjectDisposedException>());
            Assert.That(() => store.WaitForChangeAsync(TestStores.NewKey(), s_hour, CancellationToken.None), Throws.InstanceOf<ObjectDisposedException>());
        });
        store.Dispose();
    }

    private static RedisSharedTokenStore FactoryStore(
        Func<Task<IConnectionMultiplexer>> factory, TimeSpan? operationTimeout = null, TimeProvider? time = null, string keyPrefix = Prefix) =>
        new(new RapidSosRedisTokenCacheOptions { ConnectionMultiplexerFactory = factory, KeyPrefix = keyPrefix, OperationTimeout = operationTimeout ?? TestStores.Generous }, time);
}
