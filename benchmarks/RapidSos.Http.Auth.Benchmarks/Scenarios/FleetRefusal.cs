using RapidSos.Http.Auth.Benchmarks.Quick;
using RapidSos.Http.Auth.Testing;
using RapidSos.Http.Auth.Tests.Shared.Fleet;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>
/// Fleet 4: the gateway refuses the credentials (401 invalid_client) for 3 s while 8 cold instances call: the
/// refusal and its backoff are the fleet's, so about one token request per second for the fleet (goal at most 4),
/// not one per instance; without Redis, each instance backs off alone.
/// </summary>
internal static class FleetRefusal
{
    private static readonly TimeSpan s_duration = TimeSpan.FromSeconds(3);

    public static async Task RunAsync(string redis)
    {
        Report.Section($"F4. gateway refusing (401 invalid_client) for {s_duration.TotalSeconds:0} s: {FleetScale.Instances} cold instances x {FleetScale.Workers} workers");
        var shared = await RunOnceAsync(redis);
        Report.Goal("fleet.refusal.token_requests", shared.TokenRequests.ToString(System.Globalization.CultureInfo.InvariantCulture), "requests", shared.TokenRequests <= 4, $"<= 4 in {s_duration.TotalSeconds:0} s for the fleet");
        FleetScale.PrintCalls("fleet.refusal", shared.Summaries, failuresMustBeZero: false);
        FleetScale.PrintInstances(shared.Summaries);

        var alone = await RunOnceAsync(redis: null);
        Report.Figure("fleet.refusal.no_redis.token_requests", alone.TokenRequests, "requests", "0", "the same fleet, each instance alone");
    }

    private static async Task<(int TokenRequests, IReadOnlyList<FleetInstanceReport> Summaries)> RunOnceAsync(string? redis)
    {
        await using var gateway = await FleetScale.StartGatewayAsync(FleetScale.LongLifetime);
        gateway.TokenFaultRule = _ => EmulatorFault.InvalidClient();
        await using var fleet = await FleetRun.StartAsync(gateway, FleetScale.Fleet(redis, s_duration));
        await fleet.GoAsync();
        var summaries = await fleet.WaitForSummariesAsync();
        return (gateway.TokenRequestCount, summaries);
    }
}
