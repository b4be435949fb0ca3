using System.Diagnostics;
using RapidSos.Http.Auth.Benchmarks.Scenarios;
using RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;

namespace RapidSos.Http.Auth.Benchmarks.Quick;

/// <summary>
/// <c>--fleet</c>: issue 12's measurements, one <c>name: value unit</c> line per figure as <c>--quick</c> prints them:
/// the hot path with the Redis cache registered, then fleets of real processes (test/RapidSos.Http.Auth.FleetHost)
/// against one Kestrel gateway emulator and one redis-server started here. Exits with 1 when an exact count does not
/// hold; goals are reported, not enforced. Needs <c>redis-server</c> on the PATH. <c>--no-hot-path</c> skips the
/// hot path; <c>--redis-timeout-ms N</c> sets the instances' OperationTimeout.
/// </summary>
internal static class FleetMode
{
    public static async Task<int> RunAsync(string[] args)
    {
        var total = Stopwatch.StartNew();
        Report.Section($"RapidSos.Http.Auth benchmarks, fleet mode: .NET {Environment.Version}, {Environment.ProcessorCount} cores, {Environment.OSVersion}");
        QuickRun.PrintLoad("start");
        var timeoutAt = Array.IndexOf(args, "--redis-timeout-ms");
        if (timeoutAt >= 0)
        {
            if (timeoutAt + 1 >= args.Length || !int.TryParse(args[timeoutAt + 1], System.Globalization.CultureInfo.InvariantCulture, out var ms) || ms <= 0)
            {
                Console.Error.WriteLine("--redis-timeout-ms needs a number of milliseconds > 0.");
                return 2;
            }

            FleetScale.RedisTimeout = TimeSpan.FromMilliseconds(ms);
        }

        Report.Note($"the instances' Redis OperationTimeout: {(FleetScale.RedisTimeout is { } timeout ? $"{timeout.TotalMilliseconds:0} ms (--redis-timeout-ms)" : "the library's default")}");

        if (!args.Contains("--no-hot-path", StringComparer.Ordinal))
        {
            QuickHotPath.RunRedis();
        }

        await using (var redis = await RedisServer.StartAsync())
        {
            await FleetColdStart.RunAsync(redis.Configuration);
            await FleetRevocation.RunAsync(redis.Configuration);
            await FleetRefusal.RunAsync(redis.Configuration);
            await FleetSustained.RunAsync(redis.Configuration);
            await FleetRedisOutage.RunAsync(redis);
        }

        Report.Section("summary");
        Report.Figure("fleet.goals_met", Report.Goals - Report.MissedGoals.Count, $"of {Report.Goals}", "0");
        foreach (var missed in Report.MissedGoals)
        {
            Report.Note($"goal missed: {missed}");
        }

        Report.Figure("fleet.failed_checks", Report.FailedChecks.Count, "checks", "0");
        foreach (var failed in Report.FailedChecks)
        {
            Report.Note($"check FAILED: {failed}");
        }

        QuickRun.PrintLoad("end");
        Report.Figure("fleet.runtime", total.Elapsed.TotalSeconds, "s");
        return Report.FailedChecks.Count == 0 ? 0 : 1;
    }
}
