using System.Diagnostics;
using System.Globalization;
using RapidSos.Http.Auth.Benchmarks.Scenarios;

namespace RapidSos.Http.Auth.Benchmarks.Quick;

/// <summary>
/// <c>--quick</c>: every scenario with short iterations, one <c>name: value unit</c> line per figure. Exits with
/// 1 when an exact count does not hold (token requests, failed requests); goals are reported, not enforced.
/// <c>--credentials</c>: only the run-time credential scenarios (1c, 2b, 6), with the same report.
/// </summary>
internal static class QuickRun
{
    private const int ThroughputRequests = 20_000;

    public static async Task<int> RunAsync(bool credentialsOnly = false)
    {
        var total = Stopwatch.StartNew();
        Report.Section($"RapidSos.Http.Auth benchmarks, {(credentialsOnly ? "run-time credentials" : "quick mode")}: .NET {Environment.Version}, {Environment.ProcessorCount} cores, {Environment.OSVersion}");
        PrintLoad("start");

        var sections = new List<(string Name, TimeSpan Elapsed)>();
        async Task TimeAsync(string name, Func<Task> section)
        {
            var start = Stopwatch.GetTimestamp();
            await section();
            sections.Add((name, Stopwatch.GetElapsedTime(start)));
        }

        if (!credentialsOnly)
        {
            await TimeAsync("hot_path", () =>
            {
                QuickHotPath.Run();
                return Task.CompletedTask;
            });
            await TimeAsync("stampede", ColdStampede.RunAsync);
            await TimeAsync("storm", UnauthorizedStorm.RunAsync);
            await TimeAsync("near_expiry", NearExpiry.RunAsync);
            await TimeAsync("throughput", () => LoopbackThroughput.RunAsync(ThroughputRequests));
            await TimeAsync("refusal", TokenEndpointRefusal.RunAsync);
        }

        // Run-time credentials last: the first request that carries one turns on a process-wide switch in the
        // library that makes every later request look for one, which the scenarios above must not pay.
        await TimeAsync("credentials_hot_path", () =>
        {
            QuickHotPath.RunCredentials();
            return Task.CompletedTask;
        });
        await TimeAsync("agencies_cold", AgencyStampede.RunAsync);
        await TimeAsync("credential_memory", CredentialMemory.RunAsync);

        Report.Section("summary");
        Report.Figure("quick.goals_met", Report.Goals - Report.MissedGoals.Count, $"of {Report.Goals}", "0");
        foreach (var missed in Report.MissedGoals)
        {
            Report.Note($"goal missed: {missed}");
        }

        Report.Figure("quick.failed_checks", Report.FailedChecks.Count, "checks", "0");
        foreach (var failed in Report.FailedChecks)
        {
            Report.Note($"check FAILED: {failed}");
        }

        PrintLoad("end");
        foreach (var (name, elapsed) in sections)
        {
            Report.Figure($"quick.runtime.{name}", elapsed.TotalSeconds, "s");
        }

        Report.Figure("quick.runtime", total.Elapsed.TotalSeconds, "s");
        return Report.FailedChecks.Count == 0 ? 0 : 1;
    }

    /// <summary>The one-minute load average, where the system reports one: figures taken on a busy machine are noisy.</summary>
    internal static void PrintLoad(string when)
    {
        const string LoadAverage = "/proc/loadavg";
        if (File.Exists(LoadAverage)
            && double.TryParse(File.ReadAllText(LoadAverage).Split(' ')[0], CultureInfo.InvariantCulture, out var load))
        {
            Report.Figure($"quick.load_average_at_{when}", load, "runnable", "0.00", $"1-minute load average on {Environment.ProcessorCount} cores");
        }
    }
}
