using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using RapidSos.Http.Auth.Internal;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Internal;

/// <summary>Things outside the library that fail: a broken log sink, a full application cache.</summary>
public class ProviderRobustnessTests
{
    [Test]
    public async Task GetTokenAsync_LogSinkThrows_WaitersStillGetTheToken()
    {
        using var h = new ProviderHarness(services: s => s.AddLogging(b => b.AddProvider(new ThrowingLoggerProvider())));

        var token = h.Provider.GetTokenAsync().AsTask();

        Assert.That(await Task.WhenAny(token, Task.Delay(TimeSpan.FromSeconds(30))), Is.SameAs(token), "a throwing logger stranded the waiters");
        Assert.That((await token).Value, Is.EqualTo("token-1"));
        Assert.That(h.Caching.HasInflightRequest, Is.False);
    }

    [Test]
    public void GetToken_SynchronousWithLogSinkThrowing_Returns()
    {
        using var h = new ProviderHarness(services: s => s.AddLogging(b => b.AddProvider(new ThrowingLoggerProvider())));
        var sync = (ISyncTokenProvider)h.Provider;

        var token = Task.Run(() => sync.GetToken(CancellationToken.None));

        Assert.That(token.Wait(TimeSpan.FromSeconds(30)), Is.True, "a throwing logger stranded the synchronous caller");
        Assert.That(token.Result.Value, Is.EqualTo("token-1"));
    }

    [Test]
    public async Task GetTokenAsync_ApplicationCacheFull_TokenStillServedWithoutRefetching()
    {
        EvictionObservingCache? cache = null;
        using var h = new ProviderHarness(services: s =>
        {
            s.Configure<MemoryCacheOptions>(o => o.SizeLimit = 10);
            s.AddSingleton<IMemoryCache>(sp => cache = new EvictionObservingCache(new MemoryCache(sp.GetRequiredService<IOptions<MemoryCacheOptions>>())));
        });
        for (var i = 0; i < 10; i++)
        {
            h.Cache.Set("app-" + i, i, new MemoryCacheEntryOptions { Size = 1, Priority = CacheItemPriority.NeverRemove });
        }

        var first = await h.Provider.GetTokenAsync();

        // The cache refuses the entry and reports it evicted for Capacity on the thread pool. Wait until the
        // provider's eviction callback has run (the observer's runs after it), then check it did not retire the token.
        await Poll.UntilAsync(() => cache!.Evicted.Any(e => e is { Value: TokenLifecycle, Reason: EvictionReason.Capacity }), "the refused token entry's eviction callbacks");
        Assert.That(await h.Provider.GetTokenAsync(), Is.SameAs(first));
        Assert.That(h.Caching.Lifecycle!.State.HasToken, Is.True, "a Capacity eviction must not retire the token");
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
    }

    /// <summary>
    /// An <see cref="IMemoryCache"/> that records every eviction once the entry's own callbacks have run: its
    /// callback is registered last, when the entry is committed, and an entry's callbacks run in order.
    /// </summary>
    private sealed class EvictionObservingCache(IMemoryCache inner) : IMemoryCache
    {
        public ConcurrentQueue<(object Key, object? Value, EvictionReason Reason)> Evicted { get; } = new();

        public ICacheEntry CreateEntry(object key) => new ObservedEntry(inner.CreateEntry(key), this);

        public bool TryGetValue(object key, out object? value) => inner.TryGetValue(key, out value);

        public void Remove(object key) => inner.Remove(key);

        public void Dispose() => inner.Dispose();

        private sealed class ObservedEntry(ICacheEntry entry, EvictionObservingCache owner) : ICacheEntry
        {
            public object Key => entry.Key;

            public object? Value { get => entry.Value; set => entry.Value = value; }

            public DateTimeOffset? AbsoluteExpiration { get => entry.AbsoluteExpiration; set => entry.AbsoluteExpiration = value; }

            public TimeSpan? AbsoluteExpirationRelativeToNow { get => entry.AbsoluteExpirationRelativeToNow; set => entry.AbsoluteExpirationRelativeToNow = value; }

            public TimeSpan? SlidingExpiration { get => entry.SlidingExpiration; set => entry.SlidingExpiration = value; }

            public IList<IChangeToken> ExpirationTokens => entry.ExpirationTokens;

            public IList<PostEvictionCallbackRegistration> PostEvictionCallbacks => entry.PostEvictionCallbacks;

            public CacheItemPriority Priority { get => entry.Priority; set => entry.Priority = value; }

            public long? Size { get => entry.Size; set => entry.Size = value; }

            public void Dispose()
            {
                entry.RegisterPostEvictionCallback(static (key, value, reason, state) => ((EvictionObservingCache)state!).Evicted.Enqueue((key, value, reason)), owner);
                entry.Dispose();
            }
        }
    }
}
