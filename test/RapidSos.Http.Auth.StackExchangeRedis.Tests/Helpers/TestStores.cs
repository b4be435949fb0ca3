using System.Globalization;
using RapidSos.Http.Auth.StackExchangeRedis.Internal;
using StackExchange.Redis;

namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;

/// <summary>Stores on a test's redis-server, a raw connection to look at what they wrote, and keys shaped like the library's.</summary>
internal static class TestStores
{
    /// <summary>For tests of what a command does: long enough that a loaded machine never times a local command out.</summary>
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    /// <summary>For tests of an outage, where a command is meant to time out.</summary>
    public static readonly TimeSpan Short = TimeSpan.FromMilliseconds(300);

    /// <summary>The name of the stores' own connections on the server (CLIENT LIST), for the tests that they are closed.</summary>
    public const string ClientName = "rapidsos-store-under-test";

    /// <summary>A configuration string for a store: a short connect timeout, so reconnecting after a restart takes a moment, not seconds.</summary>
    public static string Configuration(RedisServer server, string clientName = ClientName) => $"{server.Configuration},connectTimeout=1000,name={clientName}";

    public static RedisSharedTokenStore Create(
        RedisServer server, string keyPrefix = "test:", TimeSpan? operationTimeout = null, TimeProvider? time = null, string clientName = ClientName) =>
        new(new RapidSosRedisTokenCacheOptions { Configuration = Configuration(server, clientName), KeyPrefix = keyPrefix, OperationTimeout = operationTimeout ?? Generous }, time);

    /// <summary>A key like the library's: a version, a hash tag of 64 hex digits, a purpose.</summary>
    public static string NewKey(string purpose = "token") =>
        $"v1:{{{Guid.NewGuid():N}{Guid.NewGuid():N}}}:{purpose}";

    /// <summary>A connection of the test's own, as the smoke tests make it, to read and write Redis around the store.</summary>
    public static Task<ConnectionMultiplexer> RawAsync(RedisServer server)
    {
        var options = ConfigurationOptions.Parse(server.Configuration);
        options.AbortOnConnectFail = false;
        options.HeartbeatInterval = TimeSpan.FromMilliseconds(100);
        options.ReconnectRetryPolicy = new LinearRetry(50);
        options.ConnectTimeout = 2000;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.AllowAdmin = true;
        return ConnectionMultiplexer.ConnectAsync(options);
    }

    /// <summary>How many connections subscribe to the change channel of <paramref name="keyPrefix"/> (PUBSUB NUMSUB).</summary>
    public static long Subscribers(IConnectionMultiplexer raw, string keyPrefix)
    {
        var reply = (RedisResult[])raw.GetServer(raw.GetEndPoints()[0]).Execute("PUBSUB", "NUMSUB", keyPrefix + "v1:changes")!;
        return (long)reply[1];
    }

    /// <summary>Waits until <paramref name="count"/> connections subscribe to the change channel of <paramref name="keyPrefix"/>.</summary>
    public static Task SubscribedAsync(IConnectionMultiplexer raw, string keyPrefix, long count) =>
        Poll.UntilAsync(() => Subscribers(raw, keyPrefix) == count, $"{count} subscriber(s) of {keyPrefix}v1:changes");

    /// <summary>
    /// Waits until a write through <paramref name="writer"/> wakes a wait on <paramref name="watcher"/> (both connected
    /// and subscribed), writing again until it does: a notification sent before a subscription is up is lost.
    /// </summary>
    public static async Task NotifiesAsync(RedisSharedTokenStore writer, RedisSharedTokenStore watcher)
    {
        var key = NewKey();
        var wait = watcher.WaitForChangeAsync(key, TimeSpan.FromHours(1), CancellationToken.None).AsTask();
        await Outcome.EventuallyAsync(
            async () =>
            {
                await writer.SetAsync(key, [0], TimeSpan.FromMinutes(1), CancellationToken.None);
                return wait.IsCompleted;
            },
            "a write through one store to wake a wait on the other");
    }

    /// <summary>The stores' own connections to the server (by their client name).</summary>
    public static int StoreConnections(IConnectionMultiplexer raw, string clientName = ClientName) =>
        raw.GetServer(raw.GetEndPoints()[0]).ClientList().Count(c => c.Name == clientName);

    /// <summary>The remaining time to live of <paramref name="key"/> in milliseconds (PTTL: -2 missing, -1 no expiry).</summary>
    public static long Pttl(IConnectionMultiplexer raw, string key) =>
        long.Parse(raw.GetDatabase().Execute("PTTL", key).ToString(), CultureInfo.InvariantCulture);
}
