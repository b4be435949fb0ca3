using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace RapidSos.Http.Auth.Benchmarks.Anatomy;

/// <summary>What a <see cref="ProviderCopy"/> changes in the hot path of the built-in provider.</summary>
public enum ProviderCopyShape
{
    /// <summary>
    /// As in src: <c>CachingTokenProvider.GetTokenAsync</c> (its <c>LifecycleFront</c>) reads its lifecycle with one volatile read,
    /// <c>TokenLifecycle.TryGetCurrent</c> the volatile <c>_state</c> and its phase, then
    /// <c>_telemetry.CacheHit(_settings.Name)</c> checks <c>_metrics.CacheHits.Enabled</c>.
    /// </summary>
    AsIs,

    /// <summary>No cache-hit counter at all: what the check costs.</summary>
    NoCounterCheck,

    /// <summary>The registration name read only when the counter is enabled (<c>CacheHit(_settings)</c>).</summary>
    NameInsideCheck,

    /// <summary>The lifecycle holds the <see cref="Counter{T}"/> itself: two loads fewer than through telemetry and metrics.</summary>
    CounterInLifecycle,

    /// <summary>As is, with plain instead of volatile reads (x64: only what the JIT may reorder).</summary>
    PlainReads,
}

/// <summary>
/// A scratch copy of the built-in provider's hot path (CachingTokenProvider -> TokenLifecycle.TryGetCurrent ->
/// TokenTelemetry.CacheHit), with the same objects and loads, so that its pieces can be priced next to the real
/// provider without touching src. A counter with no listener, as in the benchmarks.
/// </summary>
public static class ProviderCopy
{
    private static readonly Meter s_meter = new("RapidSos.Http.Auth.Benchmarks.Anatomy.ProviderCopy");

    public static ITokenProvider Create(AccessToken token, ProviderCopyShape shape)
    {
        var counter = s_meter.CreateCounter<long>("anatomy.provider_copy.cache_hits");
        var lifecycle = new Lifecycle(new Settings("registration"), new Telemetry(new Metrics(counter)), new State(Phase.Fresh, token), counter);
        return shape switch
        {
            ProviderCopyShape.AsIs => new Provider<AsIsShape>(lifecycle),
            ProviderCopyShape.NoCounterCheck => new Provider<NoCounterCheckShape>(lifecycle),
            ProviderCopyShape.NameInsideCheck => new Provider<NameInsideCheckShape>(lifecycle),
            ProviderCopyShape.CounterInLifecycle => new Provider<CounterInLifecycleShape>(lifecycle),
            _ => new Provider<PlainReadsShape>(lifecycle),
        };
    }

#pragma warning disable SA1201, SA1402, CA1812, CA1815, IDE0044 // Throwaway copies; the fields are mutable in src, so not readonly here.
    public interface IShape
    {
        static abstract int Counter { get; } // 0 none, 1 through telemetry (name first), 2 through telemetry (name inside), 3 in the lifecycle

        static abstract bool Volatile { get; }
    }

    public struct AsIsShape : IShape { public static int Counter => 1; public static bool Volatile => true; }

    public struct NoCounterCheckShape : IShape { public static int Counter => 0; public static bool Volatile => true; }

    public struct NameInsideCheckShape : IShape { public static int Counter => 2; public static bool Volatile => true; }

    public struct CounterInLifecycleShape : IShape { public static int Counter => 3; public static bool Volatile => true; }

    public struct PlainReadsShape : IShape { public static int Counter => 1; public static bool Volatile => false; }

    internal enum Phase { Empty, Fresh, RefreshDue }

    internal sealed class State(Phase phase, AccessToken? token)
    {
        public Phase Phase { get; } = phase;

        public AccessToken? Token { get; } = token;
    }

    internal sealed class Settings(string name)
    {
        public string Name { get; } = name;
    }

    internal sealed class Metrics(Counter<long> cacheHits)
    {
        public Counter<long> CacheHits { get; } = cacheHits;
    }

    internal sealed class Telemetry(Metrics metrics)
    {
        private readonly Metrics _metrics = metrics;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void CacheHit(string registration)
        {
            if (_metrics.CacheHits.Enabled)
            {
                Count(_metrics.CacheHits, registration);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void CacheHit(Settings settings)
        {
            if (_metrics.CacheHits.Enabled)
            {
                Count(_metrics.CacheHits, settings.Name);
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Count(Counter<long> counter, string registration) =>
            counter.Add(1, new KeyValuePair<string, object?>("rapidsos.registration", registration));
    }

    internal sealed class Lifecycle(Settings settings, Telemetry telemetry, State state, Counter<long> counter)
    {
        private readonly Settings _settings = settings;
        private readonly Telemetry _telemetry = telemetry;
        private readonly Counter<long> _cacheHits = counter;
        private volatile State _state = state;
        private State _plainState = state;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public AccessToken? TryGetCurrent<TShape>()
            where TShape : struct, IShape
        {
            var state = TShape.Volatile ? _state : _plainState;
            if (state.Phase == Phase.Fresh)
            {
                if (TShape.Counter == 1)
                {
                    _telemetry.CacheHit(_settings.Name);
                }
                else if (TShape.Counter == 2)
                {
                    _telemetry.CacheHit(_settings);
                }
                else if (TShape.Counter == 3 && _cacheHits.Enabled)
                {
                    Telemetry.Count(_cacheHits, _settings.Name);
                }

                return state.Token;
            }

            return state.Phase == Phase.RefreshDue ? Slow() : null;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private AccessToken? Slow() => _plainState.Token;
    }

    internal sealed class Provider<TShape>(Lifecycle lifecycle) : ITokenProvider
        where TShape : struct, IShape
    {
        private volatile Lifecycle? _lifecycle = lifecycle;
        private Lifecycle? _plainLifecycle = lifecycle;

        public ValueTask<AccessToken> GetTokenAsync(CancellationToken cancellationToken = default) =>
            (TShape.Volatile ? _lifecycle : _plainLifecycle)?.TryGetCurrent<TShape>() is { } token
                ? new ValueTask<AccessToken>(token)
                : new ValueTask<AccessToken>(SlowAsync());

        public ValueTask<AccessToken> RefreshTokenAsync(AccessToken rejected, CancellationToken cancellationToken = default) => new(rejected);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Task<AccessToken> SlowAsync() => throw new NotSupportedException("The copy has no slow path.");
    }
#pragma warning restore SA1201, SA1402, CA1812, CA1815, IDE0044
}
