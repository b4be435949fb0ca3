using System.Globalization;
using RapidSos.Http.Auth.Benchmarks.Quick;
using RapidSos.Http.Auth.Testing;
using RapidSos.Http.Auth.Tests.Shared.Fleet;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>The fleet scenarios' common ground: the fleet (8 instances x 16 workers), its tokens, and the figures every fleet run prints.</summary>
internal static class FleetScale
{
    public const int Instances = 8;
    public const int Workers = 16;
    public static readonly TimeSpan ShortLifetime = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan LongLifetime = TimeSpan.FromHours(1);

    /// <summary>The Redis cache's OperationTimeout in every instance (<c>--redis-timeout-ms</c>); <see langword="null"/>: the library's default.</summary>
    public static TimeSpan? RedisTimeout { get; set; }

    public static Task<RapidSosGatewayEmulator> StartGatewayAsync(TimeSpan lifetime) =>
        RapidSosGatewayEmulator.StartAsync(new RapidSosGatewayEmulatorOptions { TokenLifetime = lifetime, MaxRecordedRequests = 0 });

    public static FleetOptions Fleet(string? redis, TimeSpan? duration = null) => new()
    {
        Instances = Instances,
        Workers = Workers,
        Redis = redis,
        RedisTimeout = redis is null ? null : RedisTimeout,
        Duration = duration,
    };

    /// <summary>Calls, failed calls (by kind) and the longest call of a run, under <paramref name="prefix"/>.</summary>
    public static void PrintCalls(string prefix, IReadOnlyList<FleetInstanceReport> summaries, bool failuresMustBeZero)
    {
        var failed = summaries.Sum(s => s.FailedCalls);
        Report.Figure($"{prefix}.api_calls", summaries.Sum(s => s.ApiCalls), "calls", "0");
        if (failuresMustBeZero)
        {
            Report.Check($"{prefix}.failed_calls", failed, 0, 0, "calls");
        }
        else
        {
            Report.Figure($"{prefix}.failed_calls", failed, "calls", "0");
        }

        foreach (var kind in summaries.SelectMany(s => s.Failures).GroupBy(f => f.Key, StringComparer.Ordinal))
        {
            Report.Note($"{prefix}: {kind.Sum(f => f.Value).ToString(CultureInfo.InvariantCulture)} calls failed with {kind.Key}");
        }

        Report.Figure($"{prefix}.max_latency", summaries.Max(s => s.MaxLatencyMs), "ms", "0.0", "the longest API call of any instance");
        Report.Figure($"{prefix}.store_errors", summaries.Sum(s => s.SharedStoreErrors), "errors", "0", "rapidsos.auth.shared_store.errors, all instances");
    }

    /// <summary>Each instance's one-line report, for the record.</summary>
    public static void PrintInstances(IEnumerable<FleetInstanceReport> summaries)
    {
        foreach (var summary in summaries)
        {
            Report.Note(summary.Describe());
        }
    }
}
