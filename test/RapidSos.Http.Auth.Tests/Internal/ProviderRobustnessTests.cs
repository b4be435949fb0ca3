using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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
        using var h = new ProviderHarness(services: s => s.Configure<MemoryCacheOptions>(o => o.SizeLimit = 10));
        for (var i = 0; i < 10; i++)
        {
            h.Cache.Set("app-" + i, i, new MemoryCacheEntryOptions { Size = 1, Priority = CacheItemPriority.NeverRemove });
        }

        var first = await h.Provider.GetTokenAsync();
        for (var i = 0; i < 5; i++)
        {
            // The cache refusing the entry reports it evicted for Capacity on the thread pool: let that happen.
            await Task.Yield();
            Assert.That(await h.Provider.GetTokenAsync(), Is.SameAs(first));
        }

        await Task.Delay(100);
        Assert.That(await h.Provider.GetTokenAsync(), Is.SameAs(first));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
    }

    private sealed class ThrowingLoggerProvider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new ThrowingLogger(categoryName);

        public void Dispose()
        {
        }

        private sealed class ThrowingLogger(string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (category == "RapidSos.Http.Auth")
                {
                    throw new IOException("log sink broken");
                }
            }
        }
    }
}
