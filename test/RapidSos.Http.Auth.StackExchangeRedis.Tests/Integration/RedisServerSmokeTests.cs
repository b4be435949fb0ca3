using RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;
using StackExchange.Redis;

namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.Integration;

/// <summary>
/// The ground the Redis cache stands on, against a real redis-server: one StackExchange.Redis connection recovers by itself when Redis dies and comes back.
/// </summary>
public sealed class RedisServerSmokeTests
{
    [Test]
    public async Task Connection_RedisKilledAndStartedAgain_SameConnectionRecovers()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await ConnectAsync(server);
        var database = connection.GetDatabase();
        await database.StringSetAsync("before", "written before the crash");

        await server.KillAsync();
        await Poll.UntilAsync(() => !connection.IsConnected, "the connection to notice Redis died");
        Assert.That(() => database.StringGet("before"), Throws.InstanceOf<RedisConnectionException>());

        await server.StartAgainAsync();
        await Poll.UntilAsync(() => connection.IsConnected, "the connection to come back by itself");

        // The server came back empty (nothing is persisted), and the same connection serves it.
        Assert.That(await database.StringGetAsync("before"), Is.EqualTo(RedisValue.Null));
        await database.StringSetAsync("after", "written after the restart");
        Assert.That(await database.StringGetAsync("after"), Is.EqualTo((RedisValue)"written after the restart"));
    }

    [Test]
    public async Task Server_Disposed_StopsAndDeletesItsDirectory()
    {
        var server = await RedisServer.StartAsync();
        Assert.That((server.Ping(), Directory.Exists(server.DataDirectory)), Is.EqualTo((true, true)));

        await server.DisposeAsync();

        Assert.Multiple(() =>
        {
            Assert.That(server.IsRunning, Is.False);
            Assert.That(server.Ping(), Is.False);
            Assert.That(Directory.Exists(server.DataDirectory), Is.False);
        });
    }

    [Test]
    public void Start_RedisServerNotOnThePath_FailsSayingToInstallIt()
    {
        var emptyDirectory = Directory.CreateTempSubdirectory("rapidsos-no-redis-").FullName;
        try
        {
            Assert.That(
                () => RedisServer.StartAsync(searchPath: emptyDirectory),
                Throws.InvalidOperationException.With.Message.Contains("redis-server").And.Message.Contains("Install it").And.Message.Contains(".ci/run"));
        }
        finally
        {
            Directory.Delete(emptyDirectory);
        }
    }

    private static Task<ConnectionMultiplexer> ConnectAsync(RedisServer server)
    {
        var options = ConfigurationOptions.Parse(server.Configuration);
        options.AbortOnConnectFail = false;

        // Retry quickly, so the restart test takes milliseconds, not the default seconds. FailFast: with the default
        // backlog policy a command sent while Redis is down waits the whole sync/async timeout (5 s) in the backlog
        // before it fails, and the connection reports the loss only as late.
        options.HeartbeatInterval = TimeSpan.FromMilliseconds(100);
        options.ReconnectRetryPolicy = new LinearRetry(50);
        options.ConnectTimeout = 2000;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        return ConnectionMultiplexer.ConnectAsync(options);
    }
}
