using RapidSos.Http.Auth.Benchmarks.Quick;
using RapidSos.Http.Auth.Tests.Shared.Fleet;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>
/// Fleet 2: 8 instances, containers built, released at the same instant (a rolling restart's worst case): exactly
/// one token request for the fleet; without Redis, one per instance.
/// </summary>
internal static class FleetColdStart
{
    public static async Task RunAsync(string redis)
    {
        Report.Section($"F2. cold start: {FleetScale.Instances} instances x {FleetScale.Workers} workers released at once, nothing cached anywhere");
        var shared = await RunOnceAsync(redis);
        Report.Check("fleet.cold_start.token_requests", shared.TokenRequests, 1, 1, "requests");
        Report.Figure("fleet.cold_start.shared_tokens", shared.Summaries.Sum(s => s.SharedTokens), "tokens", "0", "instances that took the fleet's token from Redis");
        FleetScale.PrintCalls("fleet.cold_start", shared.Summaries, failuresMustBeZero: true);
        FleetScale.PrintInstances(shared.Summaries);

        var alone = await RunOnceAsync(redis: null);
        Report.Figure("fleet.cold_start.no_redis.token_requests", alone.TokenRequests, "requests", "0", "the same fleet, each instance alone");
    }

    private static async Task<(int TokenRequests, IReadOnlyList<FleetInstanceReport> Summaries)> RunOnceAsync(string? redis)
    {
        await using var gateway = await FleetScale.StartGatewayAsync(FleetScale.LongLifetime);
        await using var fleet = await FleetRun.StartAsync(gateway, FleetScale.Fleet(redis));
        await fleet.GoAsync();
        await fleet.WhenAllSucceededOnceAsync();
        var summaries = await fleet.StopAsync();
        return (gateway.TokenRequestCount, summaries);
    }
}
