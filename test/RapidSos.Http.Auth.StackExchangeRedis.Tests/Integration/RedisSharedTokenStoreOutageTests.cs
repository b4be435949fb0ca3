using RapidSos.Http.Auth.StackExchangeRedis.Internal;
using RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;

namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.Integration;

/// <summary>
/// The store when Redis is down (killed), was never up, or stalls (SIGSTOP): every operation throws instead of
/// hanging, a wait just runs to its timeout, and once Redis is back the same store works again, notifications too.
/// </summary>
public sealed class RedisSharedTokenStoreOutageTests
{
    private static readonly TimeSpan s_hour = TimeSpan.FromHours(1);
    private static readonly byte[] s_value = [1, 2, 3];

    [Test]
    public async Task Operations_RedisKilled_EachThrows()
    {
        await using var server = await RedisServer.StartAsync();
        await using var store = TestStores.Create(server, operationTimeout: TestStores.Short);
        var key = TestStores.NewKey();
        await store.SetAsync(key, s_value, s_hour, CancellationToken.None);

        await server.KillAsync();

        await AssertEveryOperationThrowsAsync(store, key);
    }

    [Test]
    public async Task WaitForChangeAsync_RedisKilled_CompletesAtItsTimeout()
    {
        await using var server = await RedisServer.StartAsync();
        await using var store = TestStores.Create(server, operationTimeout: TestStores.Short);
        await store.GetAsync(TestStores.NewKey(), CancellationToken.None);

        await server.KillAsync();
        var wait = store.WaitForChangeAsync(TestStores.NewKey(), TimeSpan.FromMilliseconds(50), CancellationToken.None).AsTask();

        await Outcome.CompletesAsync(() => wait);
        Assert.That(wait.Status, Is.EqualTo(TaskStatus.RanToCompletion));
    }

    [Test]
    public async Task Operations_RedisDown_FailAtOnceInsteadOfWaitingInTheBacklog()
    {
        // With StackExchange.Redis's default backlog, a command sent while Redis is down waits there for a
        // connection (5 s) and so outlasts this operation timeout; FailFast fails it at once for want of one.
        await using var server = await RedisServer.StartAsync();
        await using var store = TestStores.Create(server, operationTimeout: TimeSpan.FromSeconds(3));
        await store.GetAsync(TestStores.NewKey(), CancellationToken.None);

        await server.KillAsync();

        var thrown = await AssertEveryOperationThrowsAsync(store, TestStores.NewKey());
        Assert.That(thrown, Has.None.InstanceOf<TimeoutException>());
    }

    [Test]
    public async Task Store_RedisKilledAndStartedAgain_WorksAgainNotificationsToo()
    {
        await using var server = await RedisServer.StartAsync();
        await using var writer = TestStores.Create(server, operationTimeout: TestStores.Short);
        await using var watcher = TestStores.Create(server, operationTimeout: TestStores.Short);
        await writer.GetAsync(TestStores.NewKey(), CancellationToken.None);
        await watcher.GetAsync(TestStores.NewKey(), CancellationToken.None);

        await server.KillAsync();
        await Outcome.ThrownByAsync(() => writer.GetAsync(TestStores.NewKey(), CancellationToken.None).AsTask());
        await server.StartAgainAsync();

        await AssertWorksAsync(writer, watcher);
    }

    [Test]
    public async Task Store_RedisDownAtStartThenUp_WorksNotificationsToo()
    {
        await using var server = await RedisServer.StartAsync();
        await server.KillAsync();
        await using var writer = TestStores.Create(server, operationTimeout: TestStores.Short);
        await using var watcher = TestStores.Create(server, operationTimeout: TestStores.Short);
        var key = TestStores.NewKey();

        await AssertEveryOperationThrowsAsync(writer, key);
        var wait = watcher.WaitForChangeAsync(key, TimeSpan.FromMilliseconds(50), CancellationToken.None).AsTask();
        await Outcome.CompletesAsync(() => wait);
        Assert.That(wait.Status, Is.EqualTo(TaskStatus.RanToCompletion), "a wait with Redis down runs to its timeout");

        await server.StartAgainAsync();

        await AssertWorksAsync(writer, watcher);
    }

    [Test]
    public async Task Operations_RedisStalled_ThrowTimeoutsAndWorkOnceItGoesOn()
    {
        await using var server = await RedisServer.StartAsync();
        await using var store = TestStores.Create(server, operationTimeout: TestStores.Short);
        var key = TestStores.NewKey();
        await store.SetAsync(key, s_value, s_hour, CancellationToken.None);

        await server.PauseAsync();
        try
        {
            // On another key: Redis runs the commands it was sent once it goes on, the delete among them.
            var thrown = await AssertEveryOperationThrowsAsync(store, TestStores.NewKey());
            Assert.That(thrown, Has.All.InstanceOf<TimeoutException>().And.Property(nameof(Exception.Message)).Contains("OperationTimeout"));

            var wait = store.WaitForChangeAsync(key, TimeSpan.FromMilliseconds(50), CancellationToken.None).AsTask();
            await Outcome.CompletesAsync(() => wait);
            Assert.That(wait.Status, Is.EqualTo(TaskStatus.RanToCompletion));
        }
        finally
        {
            await server.ResumeAsync();
        }

        await Outcome.EventuallyAsync(
            async () => (await store.GetAsync(key, CancellationToken.None))?.SequenceEqual(s_value) == true,
            "the store to read the value once Redis goes on");
    }

    [Test]
    public async Task Operation_CancelledWhileRedisStalls_ThrowsOperationCanceled()
    {
        await using var server = await RedisServer.StartAsync();
        await using var store = TestStores.Create(server, operationTimeout: TimeSpan.FromSeconds(30));
        await store.GetAsync(TestStores.NewKey(), CancellationToken.None);
        await server.PauseAsync();
        try
        {
            using var cancellation = new CancellationTokenSource();
            var get = store.GetAsync(TestStores.NewKey(), cancellation.Token).AsTask();

            cancellation.Cancel();

            Assert.That(await Outcome.ThrownByAsync(() => get), Is.InstanceOf<OperationCanceledException>());
        }
        finally
        {
            await server.ResumeAsync();
        }
    }

    private static async Task<List<Exception>> AssertEveryOperationThrowsAsync(RedisSharedTokenStore store, string key)
    {
        var lease = key.Replace(":token", ":lock", StringComparison.Ordinal);
        var operations = new (string Name, Func<Task> Run)[]
        {
            ("GetAsync", () => store.GetAsync(key, CancellationToken.None).AsTask()),
            ("SetAsync", () => store.SetAsync(key, s_value, s_hour, CancellationToken.None).AsTask()),
            ("DeleteIfEqualAsync", () => store.DeleteIfEqualAsync(key, s_value, CancellationToken.None).AsTask()),
            ("TryAcquireLeaseAsync", () => store.TryAcquireLeaseAsync(lease, "owner-1", s_hour, CancellationToken.None).AsTask()),
            ("ReleaseLeaseAsync", () => store.ReleaseLeaseAsync(lease, "owner-1", CancellationToken.None).AsTask()),
        };

        var thrown = new List<Exception>();
        foreach (var (name, run) in operations)
        {
            var exception = await Outcome.ThrownByAsync(run);
            Assert.That(exception, Is.Not.InstanceOf<ArgumentException>().And.Not.InstanceOf<ObjectDisposedException>(), name);
            thrown.Add(exception);
        }

        return thrown;
    }

    /// <summary>Once Redis answers again: every primitive works, and a write through one store wakes a wait on the other.</summary>
    private static async Task AssertWorksAsync(RedisSharedTokenStore writer, RedisSharedTokenStore watcher)
    {
        var key = TestStores.NewKey();
        var lease = TestStores.NewKey("lock");
        await Outcome.EventuallyAsync(
            async () =>
            {
                await writer.SetAsync(key, s_value, s_hour, CancellationToken.None);
                return true;
            },
            "a SET to succeed once Redis is back");

        Assert.That(await writer.GetAsync(key, CancellationToken.None), Is.EqualTo(s_value));
        Assert.That(await writer.TryAcquireLeaseAsync(lease, "owner-1", s_hour, CancellationToken.None), Is.True, "the lease script, loaded again");
        Assert.That(await writer.ReleaseLeaseAsync(lease, "owner-1", CancellationToken.None), Is.True);
        Assert.That(await writer.DeleteIfEqualAsync(key, s_value, CancellationToken.None), Is.True);

        // The watcher resubscribes by itself: a write through the writer wakes a wait of an hour.
        await TestStores.NotifiesAsync(writer, watcher);
    }
}
