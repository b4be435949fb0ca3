using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using RapidSos.Http.Auth.StackExchangeRedis.Internal;
using RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;

namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.DependencyInjection;

public sealed class RapidSosRedisTokenCacheServiceCollectionExtensionsTests
{
    private static readonly ServiceProviderOptions s_strict = new() { ValidateOnBuild = true, ValidateScopes = true };

    [Test]
    public async Task AddRapidSosRedisTokenCache_StrictContainer_ResolvesOneRedisStoreWithTheOptions()
    {
        var services = new ServiceCollection();
        services.AddRapidSosRedisTokenCache(o =>
        {
            o.Configuration = "localhost:1";
            o.OperationTimeout = TimeSpan.FromMilliseconds(400);
        });

        await using var provider = services.BuildServiceProvider(s_strict);
        var store = provider.GetRequiredService<IRapidSosSharedTokenStore>();

        Assert.Multiple(() =>
        {
            Assert.That(store, Is.InstanceOf<RedisSharedTokenStore>());
            Assert.That(store.OperationTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(400)));
            Assert.That(provider.GetRequiredService<IRapidSosSharedTokenStore>(), Is.SameAs(store), "a singleton");
        });
    }

    [Test]
    public async Task AddRapidSosRedisTokenCache_HostStarts_ConnectsBeforeAnyTokenRequest()
    {
        await using var server = await RedisServer.StartAsync();
        var connections = 0;
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddRapidSosRedisTokenCache(o => o.ConnectionMultiplexerFactory = async () =>
        {
            Interlocked.Increment(ref connections);
            return await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(server.Configuration);
        });
        using var host = builder.Build();

        await host.StartAsync();

        Assert.That(Volatile.Read(ref connections), Is.EqualTo(1), "connected while the host started, so the first token requests are shared");
        await host.StopAsync();
    }

    [Test]
    public async Task AddRapidSosRedisTokenCache_RedisDownAtStart_HostStartsAnyway()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddRapidSosRedisTokenCache(o => o.Configuration = "127.0.0.1:1");
        using var host = builder.Build();

        await host.StartAsync();

        Assert.That(await host.Services.GetRequiredService<IRapidSosSharedTokenStore>().GetAsync("v1:{x}:token", CancellationToken.None).AsTask().ContinueWith(t => t.IsFaulted), Is.True, "calls fail (the instance goes on alone), the start did not");
        await host.StopAsync();
    }

    [Test]
    public async Task AddRapidSosRedisTokenCache_RealRedis_StoresUnderTheConfiguredPrefix()
    {
        await using var server = await RedisServer.StartAsync();
        await using var raw = await TestStores.RawAsync(server);
        var services = new ServiceCollection();
        services.AddRapidSosRedisTokenCache(o =>
        {
            o.Configuration = TestStores.Configuration(server);
            o.KeyPrefix = "di-app:";
            o.OperationTimeout = TestStores.Generous;
        });
        var key = TestStores.NewKey();

        await using (var provider = services.BuildServiceProvider(s_strict))
        {
            var store = provider.GetRequiredService<IRapidSosSharedTokenStore>();
            await store.SetAsync(key, [7, 8], TimeSpan.FromMinutes(1), CancellationToken.None);
            Assert.That(await store.GetAsync(key, CancellationToken.None), Is.EqualTo(new byte[] { 7, 8 }));
            Assert.That((byte[]?)await raw.GetDatabase().StringGetAsync("di-app:" + key), Is.EqualTo(new byte[] { 7, 8 }));
        }

        // The container disposed the store, and the store its connections.
        await Poll.UntilAsync(() => TestStores.StoreConnections(raw) == 0, "the store's connections to close with the container");
    }

    [Test]
    public async Task AddRapidSosRedisTokenCache_TimeProviderRegistered_TimesWaitsWithIt()
    {
        var time = new FakeTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddRapidSosRedisTokenCache(o => o.Configuration = "localhost:1");
        await using var provider = services.BuildServiceProvider(s_strict);
        var store = provider.GetRequiredService<IRapidSosSharedTokenStore>();

        var wait = store.WaitForChangeAsync(TestStores.NewKey(), TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        Assert.That(wait.IsCompleted, Is.False);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(wait.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public async Task AddRapidSosRedisTokenCache_StoreRegisteredBefore_KeepsIt()
    {
        var own = Mock.Of<IRapidSosSharedTokenStore>();
        var services = new ServiceCollection();
        services.AddSingleton(own);

        services.AddRapidSosRedisTokenCache(o => o.Configuration = "localhost:1");

        await using var provider = services.BuildServiceProvider(s_strict);
        Assert.That(provider.GetRequiredService<IRapidSosSharedTokenStore>(), Is.SameAs(own));
    }

    [Test]
    public async Task AddRapidSosRedisTokenCache_CalledTwice_OneStoreWithBothConfigurations()
    {
        var services = new ServiceCollection();
        services.AddRapidSosRedisTokenCache(o => o.Configuration = "localhost:1");
        services.AddRapidSosRedisTokenCache(o => o.OperationTimeout = TimeSpan.FromSeconds(2));

        await using var provider = services.BuildServiceProvider(s_strict);

        Assert.That(provider.GetServices<IRapidSosSharedTokenStore>().Count(), Is.EqualTo(1));
        Assert.That(provider.GetRequiredService<IRapidSosSharedTokenStore>().OperationTimeout, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(provider.GetServices<IValidateOptions<RapidSosRedisTokenCacheOptions>>().Count(), Is.EqualTo(1));
    }

    [Test]
    public void AddRapidSosRedisTokenCache_InvalidOptions_FailTheApplicationsStartNamingTheProblem()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddRapidSosRedisTokenCache(o => o.OperationTimeout = TimeSpan.Zero);
        using var host = builder.Build();

        var thrown = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.That(thrown!.Failures, Is.EquivalentTo(new[]
        {
            "RapidSosRedisTokenCacheOptions.Configuration or ConnectionMultiplexerFactory is required (the RapidSOS Redis token cache).",
            "RapidSosRedisTokenCacheOptions.OperationTimeout is 00:00:00; it must be greater than zero (the RapidSOS Redis token cache).",
        }));
    }

    [Test]
    public void AddRapidSosRedisTokenCache_NullArguments_Throw()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => ((IServiceCollection)null!).AddRapidSosRedisTokenCache(_ => { }), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("services"));
            Assert.That(() => new ServiceCollection().AddRapidSosRedisTokenCache(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("configure"));
        });
    }
}
