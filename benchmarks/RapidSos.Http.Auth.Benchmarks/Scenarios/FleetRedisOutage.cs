using System.Diagnostics;
using System.Globalization;
using RapidSos.Http.Auth.Benchmarks.Quick;
using RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;
using RapidSos.Http.Auth.Tests.Shared.Fleet;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>
/// Fleet 5: 8 instances x 16 workers with 2 s tokens; after 4 s Redis is killed (SIGKILL), 3 s later it is started
/// again, empty, and the load goes on 4 s more. No caller may fail; during the outage each instance refreshes alone,
/// at most one token request per refresh; after the restart sharing resumes without a restart of the instances, and
/// an instance started then takes the fleet's token instead of requesting one.
/// </summary>
internal static class FleetRedisOutage
{
    private static readonly TimeSpan s_before = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan s_outage = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan s_after = TimeSpan.FromSeconds(4);

    public static async Task RunAsync(RedisServer redis)
    {
        Report.Section($"F5. Redis killed for {s_outage.TotalSeconds:0} s mid-run and started again (empty): {FleetScale.Instances} instances x {FleetScale.Workers} workers, {FleetScale.ShortLifetime.TotalSeconds:0} s tokens, {s_before.TotalSeconds:0} s + {s_outage.TotalSeconds:0} s + {s_after.TotalSeconds:0} s");
        await using var gateway = await FleetScale.StartGatewayAsync(FleetScale.ShortLifetime);
        await using var fleet = await FleetRun.StartAsync(gateway, FleetScale.Fleet(redis.Configuration));
        await fleet.GoAsync();
        await fleet.WhenAllSucceededOnceAsync();

        await Task.Delay(s_before);
        await redis.KillAsync();
        var killed = await fleet.MarkAsync("redis killed");
        await Task.Delay(s_outage);
        await redis.StartAgainAsync();
        var back = await fleet.MarkAsync("redis back");

        // How soon sharing resumes: the first token an instance takes from the restarted Redis (snapshots every 100 ms).
        var sharedAtRestart = back.Reports.Values.Sum(r => r.SharedTokens);
        await Poll.UntilAsync(() => fleet.Instances.Sum(i => i.Latest?.SharedTokens ?? 0) > sharedAtRestart, "an instance to take a token from the restarted Redis", FleetRun.Patience);
        var resumedAfter = Stopwatch.GetElapsedTime(back.Timestamp);
        if (resumedAfter < s_after)
        {
            await Task.Delay(s_after - resumedAfter);
        }

        var end = await fleet.MarkAsync("end");

        // A newcomer after the restart: sharing resumed if it takes the fleet's token.
        var newcomer = await fleet.AddInstanceAsync();
        await newcomer.FirstSuccess.WaitAsync(FleetRun.Patience);
        var summaries = await fleet.StopAsync();
        var instances = summaries.Take(FleetScale.Instances).ToList();
        var newcomerSummary = summaries[^1];

        var outage = Stopwatch.GetElapsedTime(killed.Timestamp, back.Timestamp);
        var refreshesDue = FleetBounds.SingleInstanceTokenRequests(outage, FleetScale.ShortLifetime) - 1;
        var perInstance = instances.Select(s => killed.Reports.TryGetValue(s.Instance, out var k) && back.Reports.TryGetValue(s.Instance, out var b) ? b.TokenRequests - k.TokenRequests : -1).ToList();

        FleetScale.PrintCalls("fleet.redis_outage", summaries, failuresMustBeZero: true);
        Report.Figure("fleet.redis_outage.outage", outage.TotalSeconds, "s", "0.00", "kill to answering PING again");
        Report.Figure("fleet.redis_outage.token_requests_before", killed.TokenRequests, "requests", "0", $"first {s_before.TotalSeconds:0} s and the warm-up, shared");
        Report.Figure("fleet.redis_outage.token_requests_during", back.TokenRequests - killed.TokenRequests, "requests", "0", "the fleet, while Redis was down");
        Report.Goal("fleet.redis_outage.token_requests_during_per_instance_max", perInstance.Max().ToString(CultureInfo.InvariantCulture), "requests", perInstance.Max() <= refreshesDue + 1, $"<= one per refresh due in the outage ({refreshesDue}, rounded up) + 1 straddling its start");
        Report.Note($"per instance during the outage: {string.Join(", ", perInstance)}");
        Report.Figure("fleet.redis_outage.token_requests_after", end.TokenRequests - back.TokenRequests, "requests", "0", $"the {Stopwatch.GetElapsedTime(back.Timestamp, end.Timestamp).TotalSeconds:0.0} s after the restart (one instance alone would need {FleetBounds.SingleInstanceTokenRequests(Stopwatch.GetElapsedTime(back.Timestamp, end.Timestamp), FleetScale.ShortLifetime)})");
        Report.Figure("fleet.redis_outage.sharing_resumed_after", resumedAfter.TotalSeconds, "s", "0.00", "restart to the first token taken from Redis again (100 ms snapshots)");
        Report.Figure("fleet.redis_outage.shared_tokens_after", end.Reports.Values.Sum(r => r.SharedTokens) - back.Reports.Values.Sum(r => r.SharedTokens), "tokens", "0", "tokens taken from Redis after the restart: sharing resumed");
        Report.Check("fleet.redis_outage.newcomer_token_requests", newcomerSummary.TokenRequests, 0, 0, "requests");
        FleetScale.PrintInstances(summaries);
    }
}
