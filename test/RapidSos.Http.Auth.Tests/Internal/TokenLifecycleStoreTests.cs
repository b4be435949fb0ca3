using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Internal;

/// <summary>Lifecycles in the application's <c>IMemoryCache</c>: shared by equal credentials, never evicted by pressure, keyed without secrets.</summary>
public class TokenLifecycleStoreTests
{
    [Test]
    public async Task GetTokenAsync_CacheWithSizeLimit_StoresTokens()
    {
        using var h = new ProviderHarness(services: s => s.AddMemoryCache(o => o.SizeLimit = 10));

        await h.Provider.GetTokenAsync();
        await h.Provider.GetTokenAsync();

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
        Assert.That(h.Cache.TryGetValue(h.Caching.Lifecycle!.Key, out _), Is.True);
    }

    [Test]
    public async Task GetTokenAsync_CacheKey_NeverContainsTheSecret()
    {
        using var h = new ProviderHarness();
        await h.Provider.GetTokenAsync();

        var key = h.Caching.Lifecycle!.Key;

        Assert.That(key.ToString(), Does.Not.Contain(ProviderHarness.Secret));
        Assert.That(key.CredentialHash, Does.Not.Contain(ProviderHarness.Secret));
        Assert.That(key.CredentialHash, Has.Length.EqualTo(64));
        Assert.That(key.Endpoint + key.ClientId + key.Scope + key.Username, Does.Not.Contain(ProviderHarness.Secret));
    }

    [Test]
    public async Task GetTokenAsync_TwoRegistrationsWithSameCredentials_ShareTheCachedToken()
    {
        using var h = new ProviderHarness(services: s => ProviderHarness.AddSameCredentials(s, "second"));

        var first = await h.Provider.GetTokenAsync();
        var second = await h.Services.GetRequiredKeyedService<ITokenProvider>("second").GetTokenAsync();

        Assert.That(second, Is.SameAs(first));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
    }

    [Test]
    public async Task GetTokenAsync_CacheCompacted_TokenEntryIsNotEvicted()
    {
        using var h = new ProviderHarness();
        await h.Provider.GetTokenAsync();

        ((Microsoft.Extensions.Caching.Memory.MemoryCache)h.Cache).Compact(1.0);

        Assert.That(h.Cache.TryGetValue(h.Caching.Lifecycle!.Key, out _), Is.True, "memory pressure must not force a token request");
    }

    [Test]
    public async Task GetTokenAsync_CacheEntryRemoved_TokenIsRetiredAndReplaced()
    {
        using var h = new ProviderHarness();
        await h.Provider.GetTokenAsync();

        h.Cache.Remove(h.Caching.Lifecycle!.Key);
        await Poll.UntilAsync(() => !h.Caching.Lifecycle!.State.HasToken, "the removed entry's token to be retired");

        Assert.That((await h.Provider.GetTokenAsync()).Value, Is.EqualTo("token-2"));
    }
}
