using System.Diagnostics;
using Microsoft.Extensions.Caching.Memory;

using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.SoakTests;

/// <summary>One look at the things that must not grow.</summary>
/// <param name="Elapsed">Since the run started.</param>
/// <param name="ManagedBytes">Managed heap after a full blocking collection.</param>
/// <param name="CacheEntries">Entries in the application's <see cref="MemoryCache"/>; null when it is not a <see cref="MemoryCache"/>.</param>
/// <param name="ProviderInflight">The provider's own in-flight flag (<c>CachingTokenProvider.HasInflightRequest</c>); null when unreadable.</param>
/// <param name="TokenRequestsOnWire">Token requests between send and answer, as the back-channel tap sees them.</param>
/// <param name="Timers">Active <see cref="Timer"/>s in the process (token life-cycle timers among them).</param>
/// <param name="PoolThreads">Thread-pool threads.</param>
/// <param name="UnderLoad">Whether the workers were still sending (otherwise the run was draining or done).</param>
internal readonly record struct ResourceSample(
    TimeSpan Elapsed,
    long ManagedBytes,
    int? CacheEntries,
    bool? ProviderInflight,
    int TokenRequestsOnWire,
    long Timers,
    int PoolThreads,
    bool UnderLoad);

/// <summary>Samples memory, the token cache and in-flight token requests once per interval while the soak runs.</summary>
internal sealed class ResourceSampler
{
    private readonly MemoryCache? _cache;
    private readonly object _provider;
    private readonly CachingTokenProvider? _caching;
    private readonly TokenOracle _oracle;
    private readonly long _start;
    private readonly Func<bool> _underLoad;
    private readonly List<ResourceSample> _samples = [];

    public ResourceSampler(object cache, ITokenProvider provider, TokenOracle oracle, long start, Func<bool> underLoad)
    {
        _cache = cache as MemoryCache;
        _provider = provider;
        _oracle = oracle;
        _start = start;
        _underLoad = underLoad;

        _caching = provider as CachingTokenProvider;
    }

    public bool CanReadProviderInflight => _caching is not null;

    public IReadOnlyList<ResourceSample> Samples
    {
        get
        {
            lock (_samples)
            {
                return [.. _samples];
            }
        }
    }

    public ResourceSample Sample()
    {
        // Forced, so the number is the live heap rather than how much garbage the last collection left behind.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        var sample = new ResourceSample(
            Stopwatch.GetElapsedTime(_start),
            GC.GetTotalMemory(forceFullCollection: false),
            _cache?.Count,
            _caching?.HasInflightRequest,
            _oracle.ConcurrentTokenRequests,
            Timer.ActiveCount,
            ThreadPool.ThreadCount,
            _underLoad());
        lock (_samples)
        {
            _samples.Add(sample);
        }

        return sample;
    }

    public async Task RunAsync(TimeSpan interval, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                Sample();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
