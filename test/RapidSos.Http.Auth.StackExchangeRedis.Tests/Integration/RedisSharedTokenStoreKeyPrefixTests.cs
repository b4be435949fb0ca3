using RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;

namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.Integration;

/// <summary>Two applications sharing one Redis under different key prefixes see neither each other's keys nor each other's notifications.</summary>
public sealed class RedisSharedTokenStoreKeyPrefixTests
{
    private static readonly TimeSpan s_hour = TimeSpan.FromHours(1);
    private static readonly byte[] s_value = [1, 2, 3];

    [Test]
    public async Task Stores_DifferentPrefixes_DoNotShareKeys()
    {
        await using var server = await RedisServer.StartAsync();
        await using var first = TestStores.Create(server, "app-one:");
        await using var second = TestStores.Create(server, "app-two:");
        var key = TestStores.NewKey();
        var lease = TestStores.NewKey("lock");

        await first.SetAsync(key, s_value, s_hour, CancellationToken.None);
        await first.TryAcquireLeaseAsync(lease, "owner-1", s_hour, CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(await second.GetAsync(key, CancellationToken.None), Is.Null);
            Assert.That(await second.DeleteIfEqualAsync(key, s_value, CancellationToken.None), Is.False);
            Assert.That(await second.TryAcquireLeaseAsync(lease, "owner-2", s_hour, CancellationToken.None), Is.True, "its own lease");
            Assert.That(await first.GetAsync(key, CancellationToken.None), Is.EqualTo(s_value));
        });
    }

    [Test]
    public async Task Stores_DifferentPrefixes_DoNotWakeEachOther()
    {
        await using var server = await RedisServer.StartAsync();
        await using var otherApplication = TestStores.Create(server, "app-one:");
        await using var watcher = TestStores.Create(server, "app-two:");
        await using var watchersFleetMate = TestStores.Create(server, "app-two:");
        await otherApplication.GetAsync(TestStores.NewKey(), CancellationToken.None);
        await TestStores.NotifiesAsync(watchersFleetMate, watcher);
        var key = TestStores.NewKey();
        var sentinel = TestStores.NewKey();
        var wait = watcher.WaitForChangeAsync(key, s_hour, CancellationToken.None).AsTask();
        var sentinelWait = watcher.WaitForChangeAsync(sentinel, s_hour, CancellationToken.None).AsTask();

        await otherApplication.SetAsync(key, s_value, s_hour, CancellationToken.None);
        await watchersFleetMate.SetAsync(sentinel, s_value, s_hour, CancellationToken.None);
        await Outcome.CompletesAsync(() => sentinelWait);

        Assert.That(wait.IsCompleted, Is.False);
    }
}
