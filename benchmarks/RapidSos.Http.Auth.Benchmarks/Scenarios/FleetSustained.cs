using RapidSos.Http.Auth.Benchmarks.Quick;
using RapidSos.Http.Auth.Tests.Shared.Fleet;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>
/// Fleet 1: 8 instances x 16 workers calling as fast as they can for 20 s with 2 s tokens, sharing through Redis,
/// then the same fleet without Redis. The fleet's token requests against what one instance alone needs (the first,
/// then one per lifetime less the refresh window): goal at most that bound + 2; without Redis, about 8 times more.
/// </summary>
internal static class FleetSustained
{
    private static readonly TimeSpan s_duration = TimeSpan.FromSeconds(20);

    public static async Task RunAsync(string redis)
    {
        Report.Section($"F1. sustained load: {FleetScale.Instances} instances x {FleetScale.Workers} workers, {FleetScale.ShortLifetime.TotalSeconds:0} s tokens, {s_duration.TotalSeconds:0} s, as fast as they can (Kestrel emulator, redis-server, one process per instance)");
        var shared = await RunOnceAsync(redis);
        var alone = await RunOnceAsync(redis: null);

        var bound = FleetBounds.SingleInstanceTokenRequests(shared.Duration, FleetScale.ShortLifetime);
        Report.Figure("fleet.sustained.duration", shared.Duration.TotalSeconds, "s", "0.00", "the longest instance's load, from its go to its stop");
        Report.Figure("fleet.sustained.single_instance_bound", bound, "requests", "0", "ceil(duration / (lifetime - refresh window)) + 1");
        Report.Goal("fleet.sustained.token_requests", shared.TokenRequests.ToString(System.Globalization.CultureInfo.InvariantCulture), "requests", shared.TokenRequests <= bound + 2, $"<= single-instance bound + 2 = {bound + 2}");
        FleetScale.PrintCalls("fleet.sustained", shared.Summaries, failuresMustBeZero: true);
        FleetScale.PrintInstances(shared.Summaries);

        Report.Figure("fleet.sustained.no_redis.token_requests", alone.TokenRequests, "requests", "0", "the same fleet, each instance alone");
        Report.Figure("fleet.sustained.no_redis_to_fleet", (double)alone.TokenRequests / Math.Max(shared.TokenRequests, 1), "x", "0.0");
        FleetScale.PrintCalls("fleet.sustained.no_redis", alone.Summaries, failuresMustBeZero: true);
    }

    private static async Task<Run> RunOnceAsync(string? redis)
    {
        await using var gateway = await FleetScale.StartGatewayAsync(FleetScale.ShortLifetime);
        await using var fleet = await FleetRun.StartAsync(gateway, FleetScale.Fleet(redis, s_duration));
        await fleet.GoAsync();
        var summaries = await fleet.WaitForSummariesAsync();
        return new Run(gateway.TokenRequestCount, TimeSpan.FromSeconds(summaries.Max(s => s.ElapsedSeconds)), summaries);
    }

    private sealed record Run(int TokenRequests, TimeSpan Duration, IReadOnlyList<FleetInstanceReport> Summaries);
}
