using RapidSos.Http.Auth.Benchmarks.Quick;
using RapidSos.Http.Auth.Tests.Shared.Fleet;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>
/// Fleet 3: 8 warm instances, then the gateway revokes every token: every instance is answered 401 at once, and the
/// fleet sends exactly one token request (hour-long tokens, so none is a refresh); without Redis, one per instance.
/// </summary>
internal static class FleetRevocation
{
    public static async Task RunAsync(string redis)
    {
        Report.Section($"F3. revocation: {FleetScale.Instances} warm instances x {FleetScale.Workers} workers, every token revoked at once");
        var shared = await RunOnceAsync(redis);
        Report.Check("fleet.revocation.token_requests", shared.TokenRequests, 1, 1, "requests");
        Report.Figure("fleet.revocation.unauthorized_resends", shared.Summaries.Sum(s => s.UnauthorizedRetries), "resends", "0", "calls answered 401 and resent with the new token");
        FleetScale.PrintCalls("fleet.revocation", shared.Summaries, failuresMustBeZero: true);
        FleetScale.PrintInstances(shared.Summaries);

        var alone = await RunOnceAsync(redis: null);
        Report.Figure("fleet.revocation.no_redis.token_requests", alone.TokenRequests, "requests", "0", "the same fleet, each instance alone");
    }

    private static async Task<(int TokenRequests, IReadOnlyList<FleetInstanceReport> Summaries)> RunOnceAsync(string? redis)
    {
        await using var gateway = await FleetScale.StartGatewayAsync(FleetScale.LongLifetime);
        await using var fleet = await FleetRun.StartAsync(gateway, FleetScale.Fleet(redis));
        await fleet.GoAsync();
        await fleet.WhenAllSucceededOnceAsync();
        var before = await fleet.MarkAsync("revoked");

        gateway.RevokeAllTokens();
        await Poll.UntilAsync(() => fleet.Instances.All(i => i.Latest?.UnauthorizedRetries > 0), "every instance to be answered 401", FleetRun.Patience);
        var seen = await fleet.MarkAsync("seen by all");
        await Poll.UntilAsync(() => fleet.Instances.All(i => i.Latest?.Successes > seen.Reports[i.Name].Successes), "every instance to go on succeeding", FleetRun.Patience);
        var summaries = await fleet.StopAsync();
        return (gateway.TokenRequestCount - before.TokenRequests, summaries);
    }
}
