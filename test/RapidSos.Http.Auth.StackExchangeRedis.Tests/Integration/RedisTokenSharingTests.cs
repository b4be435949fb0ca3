using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;
using RapidSos.Http.Auth.Testing;
using StackExchange.Redis;

namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.Integration;

/// <summary>
/// The fleet's promises end to end, in one process: several containers ("instances"), each with its own
/// connection to one real redis-server, against one real gateway emulator on Kestrel.
/// </summary>
[NonParallelizable]
public sealed class RedisTokenSharingTests
{
    private const string ClientId = "agency-12";
    private const string Secret = "s3cr\"et\\-\u00e9t\u00e9-+%&=";

    private RedisServer _redis = null!;
    private RapidSosGatewayEmulator _gateway = null!;
    private ConnectionMultiplexer _raw = null!;
    private readonly List<Instance> _fleet = [];

    [SetUp]
    public async Task SetUp()
    {
        _redis = await RedisServer.StartAsync();
        _gateway = await RapidSosGatewayEmulator.StartAsync(new RapidSosGatewayEmulatorOptions { ClientId = ClientId, ClientSecret = Secret });
        _raw = await ConnectionMultiplexer.ConnectAsync(_redis.Configuration + ",abortConnect=false,allowAdmin=true");
    }

    [TearDown]
    public async Task TearDown()
    {
        foreach (var instance in _fleet)
        {
            await instance.DisposeAsync();
        }

        _fleet.Clear();
        await _raw.DisposeAsync();
        await _gateway.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Test]
    public async Task GetToken_AnotherInstanceFetchedIt_UsesItWithoutATokenRequest()
    {
        var (a, b) = (Start(), Start());
        var first = await a.Tokens.GetTokenAsync();
        await SharedAsync();

        var second = await b.Tokens.GetTokenAsync();

        Assert.Multiple(() =>
        {
            Assert.That(second.Value, Is.EqualTo(first.Value));
            // The owner counts its own token from when its lifecycle sent the request, the fleet from when the
            // owner's request left after its lookups: the same token, expiring a few milliseconds later for the others.
            Assert.That(second.ExpiresAt, Is.InRange(first.ExpiresAt.AddMilliseconds(-1), first.ExpiresAt.AddSeconds(1)));
            Assert.That(_gateway.TokenRequestCount, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task GetToken_EightInstancesStartingAtOnce_OneTokenRequestForTheFleet()
    {
        _gateway.TokenLatency = TimeSpan.FromMilliseconds(200);
        var fleet = Enumerable.Range(0, 8).Select(_ => Start()).ToArray();

        var tokens = await Task.WhenAll(fleet.SelectMany(i => Enumerable.Range(0, 4).Select(_ => i.Tokens.GetTokenAsync().AsTask())));

        Assert.Multiple(() =>
        {
            Assert.That(tokens.Select(t => t.Value).Distinct().Count(), Is.EqualTo(1));
            Assert.That(_gateway.TokenRequestCount, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task RefreshToken_RevocationSeenByEveryInstanceAtOnce_OneTokenRequestForTheFleet()
    {
        var fleet = Enumerable.Range(0, 6).Select(_ => Start()).ToArray();
        var revoked = await fleet[0].Tokens.GetTokenAsync();
        await SharedAsync();
        foreach (var instance in fleet)
        {
            await instance.Tokens.GetTokenAsync();
        }

        _gateway.RevokeAllTokens();
        var replacements = await Task.WhenAll(fleet.Select(i => i.Tokens.RefreshTokenAsync(revoked).AsTask()));

        Assert.Multiple(() =>
        {
            Assert.That(replacements.Select(t => t.Value).Distinct().Single(), Is.Not.EqualTo(revoked.Value));
            Assert.That(_gateway.TokenRequestCount, Is.EqualTo(2), "the first token and one replacement");
        });
    }

    [Test]
    public async Task GetToken_GatewayRefusingTheSecret_OneTokenRequestWhileEveryInstanceAsks()
    {
        _gateway.TokenFaultRule = _ => EmulatorFault.InvalidClient();
        var fleet = Enumerable.Range(0, 4).Select(_ => Start()).ToArray();
        Assert.That(async () => await fleet[0].Tokens.GetTokenAsync(), Throws.InstanceOf<RapidSosAuthenticationException>());
        await Poll.UntilAsync(() => Keys().Any(k => k.EndsWith(":refusal", StringComparison.Ordinal)) && !Keys().Any(k => k.EndsWith(":lock", StringComparison.Ordinal)), "the refusal to be shared");

        foreach (var instance in fleet.Skip(1))
        {
            var failure = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await instance.Tokens.GetTokenAsync());
            Assert.That(failure!.Message, Does.Contain("Client credentials are invalid"));
        }

        Assert.That(_gateway.TokenRequestCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Redis_HoldsNoSpellingOfTheSecretTheTokenTheClientIdOrTheUser()
    {
        _gateway.AddUser(ClientId, "dispatcher-7@agency.example", "p\u00e4ss \"word\"");
        var (a, b) = (Start(), Start());
        var token = await a.Tokens.GetTokenAsync();
        var user = RapidSosCredential.ForUser(ClientId, Secret, "dispatcher-7@agency.example", "p\u00e4ss \"word\"");
        var userToken = await a.Services.GetRequiredService<IRapidSosTokenCache>().GetTokenAsync(user);
        await SharedAsync(expectedTokens: 2);
        await b.Services.GetRequiredService<IRapidSosTokenCache>().GetTokenAsync(user);

        var server = _raw.GetServer(_raw.GetEndPoints()[0]);
        var everything = new List<byte[]>();
        foreach (var key in server.Keys(pattern: "*"))
        {
            everything.Add(Encoding.UTF8.GetBytes(key.ToString()));
            everything.Add((byte[])(await _raw.GetDatabase().StringGetAsync(key))!);
        }

        Assert.That(everything, Has.Count.GreaterThanOrEqualTo(4));
        foreach (var bytes in everything)
        {
            foreach (var secret in new[] { Secret, token.Value, userToken.Value, ClientId, "dispatcher-7@agency.example", "p\u00e4ss \"word\"" })
            {
                Assert.That(Spellings.FindIn(bytes, secret), Is.Null, $"a spelling of '{secret}' in Redis");
            }
        }
    }

    [Test]
    public async Task GetToken_RedisKilled_GoesOnAloneWithOneWarningCountsErrorsAndSharesAgainWhenItIsBack()
    {
        var a = Start();
        using var errors = new MetricCollector<long>(a.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), RapidSosAuthDefaults.MeterName, "rapidsos.auth.shared_store.errors");
        await _redis.KillAsync();

        var alone = await a.Tokens.GetTokenAsync();
        var again = await a.Tokens.RefreshTokenAsync(alone);
        await a.Tokens.RefreshTokenAsync(again);

        Assert.Multiple(() =>
        {
            Assert.That(_gateway.TokenRequestCount, Is.EqualTo(3), "each request went out alone, none failed");
            Assert.That(a.Warnings("did not answer"), Is.EqualTo(1), "one warning per outage");
            Assert.That(errors.GetMeasurementSnapshot().Sum(m => m.Value), Is.GreaterThanOrEqualTo(3));
        });

        await _redis.StartAgainAsync();
        var b = Start();
        await Poll.UntilAsync(() => _raw.IsConnected, "the raw connection to come back");
        AccessToken? shared = null;
        await Poll.UntilAsync(async () =>
        {
            // The store reconnects by itself; until it has, a refresh goes out alone.
            shared = await a.Tokens.RefreshTokenAsync(shared ?? again);
            return Keys().Any(k => k.EndsWith(":token", StringComparison.Ordinal));
        }, "a token shared once Redis is back");
        await SharedAsync();
        var requests = _gateway.TokenRequestCount;

        var seenByB = await b.Tokens.GetTokenAsync();

        Assert.Multiple(() =>
        {
            Assert.That(seenByB.Value, Is.EqualTo(shared!.Value));
            Assert.That(_gateway.TokenRequestCount, Is.EqualTo(requests));
        });
    }

    [Test]
    public async Task GetToken_ValueInRedisIsNotOurs_IsAMissWithADebugLog()
    {
        var a = Start();
        await a.Tokens.GetTokenAsync();
        await SharedAsync();
        var tokenKey = Keys().Single(k => k.EndsWith(":token", StringComparison.Ordinal));
        await _raw.GetDatabase().StringSetAsync(tokenKey, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, TimeSpan.FromMinutes(5));

        var b = Start();
        var token = await b.Tokens.GetTokenAsync();

        Assert.Multiple(() =>
        {
            Assert.That(token.Value, Is.Not.Empty);
            Assert.That(_gateway.TokenRequestCount, Is.EqualTo(2));
            Assert.That(b.Logs.GetSnapshot().Any(r => r.Level == LogLevel.Debug && r.Message.Contains("not one this instance can open", StringComparison.Ordinal)), Is.True);
        });
    }

    [Test]
    public async Task GetToken_LockHeldByAStuckOwner_IsBoundedByItsLease()
    {
        var a = Start();
        await a.Tokens.GetTokenAsync();
        await SharedAsync();
        var tokenKey = Keys().Single(k => k.EndsWith(":token", StringComparison.Ordinal));
        var lockKey = tokenKey[..^"token".Length] + "lock";
        await _raw.GetDatabase().KeyDeleteAsync(tokenKey);
        await _raw.GetDatabase().StringSetAsync(lockKey, "an-instance-that-hangs", TimeSpan.FromSeconds(2));

        var b = Start();
        var token = await b.Tokens.GetTokenAsync();

        Assert.Multiple(() =>
        {
            Assert.That(token.Value, Is.Not.Empty);
            Assert.That(_gateway.TokenRequestCount, Is.EqualTo(2), "one instance, after the stuck lease ended");
        });
    }

    [Test]
    public async Task GetToken_AnotherKeyPrefix_DoesNotShare()
    {
        var a = Start();
        var other = Start(prefix: "other-app:");
        await a.Tokens.GetTokenAsync();
        await SharedAsync();

        await other.Tokens.GetTokenAsync();

        Assert.Multiple(() =>
        {
            Assert.That(_gateway.TokenRequestCount, Is.EqualTo(2));
            Assert.That(Keys().Where(k => k.EndsWith(":token", StringComparison.Ordinal)), Has.Some.StartsWith("other-app:v1:").And.Some.StartsWith("rapidsos:auth:v1:"));
        });
    }

    private Instance Start(string prefix = "rapidsos:auth:", string secret = Secret)
    {
        var logs = new FakeLogCollector();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(logs)));
        services.AddMetrics();
        services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = _gateway.BaseAddress;
            o.ClientId = ClientId;
            o.ClientSecret = secret;
        });
        services.AddRapidSosRedisTokenCache(o =>
        {
            o.Configuration = _redis.Configuration;
            o.KeyPrefix = prefix;
        });
        var instance = new Instance(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }), logs);
        _fleet.Add(instance);
        return instance;
    }

    private List<string> Keys() =>
        _raw.IsConnected ? [.. _raw.GetServer(_raw.GetEndPoints()[0]).Keys(pattern: "*").Select(k => k.ToString())] : [];

    /// <summary>What the owner writes after its callers have their token, in the background: waited for here.</summary>
    private Task SharedAsync(int expectedTokens = 1) =>
        Poll.UntilAsync(
            () =>
            {
                var keys = Keys();
                return keys.Count(k => k.EndsWith(":token", StringComparison.Ordinal)) >= expectedTokens && !keys.Any(k => k.EndsWith(":lock", StringComparison.Ordinal));
            },
            "the token to be in Redis and the lease released");

    private sealed class Instance(ServiceProvider services, FakeLogCollector logs) : IAsyncDisposable
    {
        public ServiceProvider Services { get; } = services;

        public FakeLogCollector Logs { get; } = logs;

        public ITokenProvider Tokens => Services.GetRequiredKeyedService<ITokenProvider>(string.Empty);

        public int Warnings(string text) =>
            Logs.GetSnapshot().Count(r => r.Level == LogLevel.Warning && r.Message.Contains(text, StringComparison.Ordinal));

        public ValueTask DisposeAsync() => Services.DisposeAsync();
    }
}
