using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using RapidSos.Http.Auth.Benchmarks.HotPath;

namespace RapidSos.Http.Auth.Benchmarks.Quick;

/// <summary>
/// Scenario 1 in quick mode: the hot-path benchmarks with a short in-process job, reported as figures. The usual
/// BenchmarkDotNet output goes to a log kept in memory and printed only when something failed.
/// </summary>
internal static class QuickHotPath
{
    private const double TimeGoalNs = 30;
    private const double WiringTimeGoalNs = 20;
    private const int Passes = 2;
    private const int BenchmarkCount = 7;
    private const int WiringBenchmarkCount = 12;
    private const double CredentialTimeGoalNs = 60;
    private const int CredentialBenchmarkCount = 6;
    private const double RedisTimeGoalNs = 5;
    private const int RedisBenchmarkCount = 4;

    /// <summary>1b's factory-wired handler arm, by terminal, once it has run: 1c compares its baseline with it.</summary>
    private static readonly Dictionary<TerminalCompletion, Measurement> s_factoryHandler = [];

    public static void Run()
    {
        Report.Section("1. hot path: HttpMessageInvoker.SendAsync to a canned 200, cached token (BenchmarkDotNet, short in-process job, MemoryDiagnoser)");
        Report.Note("time = median of the iterations (±standard error), alloc = bytes per operation (MemoryDiagnoser)");
        Report.Note("Asynchronous = the terminal returns a pending task completed right after SendAsync returns, on the same thread (no thread hop)");

        var wallClockJob = QuickJob();
        var job = wallClockJob;
        var cpuClock = ThreadCpuClock.Instance.IsAvailable;
        if (cpuClock)
        {
            job = job.WithClock(ThreadCpuClock.Instance);
        }

        Report.Note(cpuClock
            ? "clock = the benchmark thread's CPU time (time preempted by other processes does not count)"
            : "clock = wall clock");
        Report.Note($"{Passes} passes over all the benchmarks; each figure is the best pass's median, so a burst of load elsewhere in one pass does not decide it");

        var log = new AccumulationLogger();
        var config = Config(job, log);

        var results = new List<BenchmarkReport>();
        for (var pass = 0; pass < Passes; pass++)
        {
            var summaries = BenchmarkRunner.Run([typeof(SendAsyncBenchmarks), typeof(TokenProviderBenchmarks)], config);
            results.AddRange(summaries.SelectMany(s => s.Reports));
        }

        if (results.Count != BenchmarkCount * Passes || results.Any(r => r.ResultStatistics is null))
        {
            Console.Error.WriteLine(log.GetLog());
            Report.Check("hotpath.benchmarks_with_results", results.Count(r => r.ResultStatistics is not null), BenchmarkCount * Passes, BenchmarkCount * Passes, "benchmarks");
            return;
        }

        foreach (var terminal in new[] { TerminalCompletion.Synchronous, TerminalCompletion.Asynchronous })
        {
            var variant = terminal == TerminalCompletion.Synchronous ? "sync" : "async";
            var none = Find(results, nameof(SendAsyncBenchmarks.NoHandler), terminal);
            var floor = Find(results, nameof(SendAsyncBenchmarks.Floor), terminal);
            var handler = Find(results, nameof(SendAsyncBenchmarks.BearerTokenHandler), terminal);

            Print($"hotpath.{variant}.no_handler", none);
            Print($"hotpath.{variant}.floor", floor);
            Report.Delta($"hotpath.{variant}.floor_minus_no_handler.time", floor.Ns - none.Ns, "ns");
            Report.Delta($"hotpath.{variant}.floor_minus_no_handler.alloc", floor.Bytes - none.Bytes, "B", "0");
            Print($"hotpath.{variant}.handler", handler);
            Report.Delta($"hotpath.{variant}.handler_minus_no_handler.time", handler.Ns - none.Ns, "ns");
            Report.Delta($"hotpath.{variant}.handler_minus_no_handler.alloc", handler.Bytes - none.Bytes, "B", "0");

            var extraNs = handler.Ns - floor.Ns;
            var extraBytes = handler.Bytes - floor.Bytes;
            Report.Goal($"hotpath.{variant}.handler_minus_floor.time", Signed(extraNs, "0.0"), "ns", extraNs <= TimeGoalNs, $"<= +{TimeGoalNs:0} ns");
            Report.Goal($"hotpath.{variant}.handler_minus_floor.alloc", Signed(extraBytes, "0"), "B", extraBytes <= 0, "+0 B");
            Report.Figure($"hotpath.{variant}.handler_to_floor.time", handler.Ns / floor.Ns, "x", "0.00");
        }

        var token = Find(results, nameof(TokenProviderBenchmarks.GetTokenAsync), terminal: null);
        Report.Figure("token.get_token_async.time", token.Ns, "ns", "0.0", $"±{Report.Format(token.ErrorNs)} ns");
        Report.Goal("token.get_token_async.alloc", Report.Format(token.Bytes, "0"), "B", token.Bytes == 0, "0 B");

        RunWiring(wallClockJob, log);
    }

    /// <summary>
    /// Scenario 1b: <see cref="AppWiringBenchmarks"/>, the same three arms built by hand and through
    /// <c>IHttpMessageHandlerFactory</c>, with a synchronous terminal and one that does <c>await Task.Yield()</c>.
    /// Wall clock: with the yielding terminal the work runs on a thread-pool thread, not the benchmark thread.
    /// </summary>
    private static void RunWiring(Job job, AccumulationLogger log)
    {
        Report.Section("1b. hot path as an application wires it: named clients from IHttpMessageHandlerFactory (loggers removed) vs by hand; GET with Accept, warm cache, one request at a time");
        Report.Note($"each invocation awaits {AppWiringBenchmarks.Ops} sends in a loop; yield = the terminal does 'await Task.Yield()' before answering, so the response completes on a thread-pool thread as over a socket");
        Report.Note("clock = wall clock (the yielding arms run on the thread pool); time = median, alloc = MemoryDiagnoser bytes per operation (process-wide)");

        var config = Config(job, log);

        var results = new List<BenchmarkReport>();
        for (var pass = 0; pass < Passes; pass++)
        {
            results.AddRange(BenchmarkRunner.Run<AppWiringBenchmarks>(config).Reports);
        }

        if (results.Count != WiringBenchmarkCount * Passes || results.Any(r => r.ResultStatistics is null))
        {
            Console.Error.WriteLine(log.GetLog());
            Report.Check("wiring.benchmarks_with_results", results.Count(r => r.ResultStatistics is not null), WiringBenchmarkCount * Passes, WiringBenchmarkCount * Passes, "benchmarks");
            return;
        }

        foreach (var wiring in new[] { Wiring.Hand, Wiring.Factory })
        {
            foreach (var terminal in new[] { TerminalCompletion.Synchronous, TerminalCompletion.Yield })
            {
                var variant = $"wiring.{(wiring == Wiring.Hand ? "hand" : "factory")}.{(terminal == TerminalCompletion.Synchronous ? "sync" : "yield")}";
                var none = FindWiring(results, nameof(AppWiringBenchmarks.NoHandler), wiring, terminal);
                var floor = FindWiring(results, nameof(AppWiringBenchmarks.Floor), wiring, terminal);
                var handler = FindWiring(results, nameof(AppWiringBenchmarks.BearerTokenHandler), wiring, terminal);
                if (wiring == Wiring.Factory)
                {
                    s_factoryHandler[terminal] = handler;
                }

                Print($"{variant}.no_handler", none);
                Print($"{variant}.floor", floor);
                Print($"{variant}.handler", handler);
                Report.Delta($"{variant}.floor_minus_no_handler.time", floor.Ns - none.Ns, "ns");
                Report.Delta($"{variant}.floor_minus_no_handler.alloc", floor.Bytes - none.Bytes, "B", "0");
                Report.Delta($"{variant}.handler_minus_no_handler.time", handler.Ns - none.Ns, "ns");
                Report.Delta($"{variant}.handler_minus_no_handler.alloc", handler.Bytes - none.Bytes, "B", "0");

                var extraNs = handler.Ns - floor.Ns;

                // Process-wide bytes per operation carry the loop's own state machine (one per 256 sends) and the
                // odd thread-pool allocation, a byte or so either way: compared in whole 8-byte allocation units.
                var extraBytes = (Math.Round(handler.Bytes / 8) - Math.Round(floor.Bytes / 8)) * 8;
                Report.Goal($"{variant}.handler_minus_floor.time", Signed(extraNs, "0.0"), "ns", extraNs <= WiringTimeGoalNs, $"<= +{WiringTimeGoalNs:0} ns");
                Report.Goal($"{variant}.handler_minus_floor.alloc", Signed(extraBytes, "0"), "B", extraBytes <= 0, "+0 B");
            }
        }
    }

    /// <summary>
    /// Scenario 1c: <see cref="CredentialWiringBenchmarks"/>, the factory-wired hot path with a reused credential on
    /// the request and with a resolver, against the static registration in the same run; wall clock, as 1b.
    /// </summary>
    public static void RunCredentials()
    {
        Report.Section("1c. hot path with run-time credentials: named clients from IHttpMessageHandlerFactory (AddRapidSosBearerToken, loggers removed), GET with Accept, warm caches, one request at a time");
        Report.Note($"static = the registration's own credentials; request_credential = the same registration, a reused RapidSosCredential set once on the reused request (WithRapidSosCredential); resolver = a registration whose IRapidSosCredentialResolver returns a kept instance synchronously");
        Report.Note($"each invocation awaits {CredentialWiringBenchmarks.Ops} sends in a loop, as 1b; clock = wall clock; {Passes} passes, best median; alloc compared in whole 8-byte units, as 1b");
        Report.Note("the process has now seen a request with a credential, so every request looks for one (the library's process-wide switch): 'static' pays that look-up, 1b's factory handler arm did not; reading the options of a request that has none allocates them, once here since the request is reused, on every request of an application");

        var log = new AccumulationLogger();
        var config = Config(QuickJob(), log);
        var results = new List<BenchmarkReport>();
        for (var pass = 0; pass < Passes; pass++)
        {
            results.AddRange(BenchmarkRunner.Run<CredentialWiringBenchmarks>(config).Reports);
        }

        if (results.Count != CredentialBenchmarkCount * Passes || results.Any(r => r.ResultStatistics is null))
        {
            Console.Error.WriteLine(log.GetLog());
            Report.Check("credentials.benchmarks_with_results", results.Count(r => r.ResultStatistics is not null), CredentialBenchmarkCount * Passes, CredentialBenchmarkCount * Passes, "benchmarks");
            return;
        }

        foreach (var terminal in new[] { TerminalCompletion.Synchronous, TerminalCompletion.Yield })
        {
            var variant = $"credentials.{(terminal == TerminalCompletion.Synchronous ? "sync" : "yield")}";
            var baseline = FindCredential(results, nameof(CredentialWiringBenchmarks.StaticRegistration), terminal);
            Print($"{variant}.static", baseline);
            foreach (var (arm, method) in new[] { ("request_credential", nameof(CredentialWiringBenchmarks.RequestCredential)), ("resolver", nameof(CredentialWiringBenchmarks.Resolver)) })
            {
                var measured = FindCredential(results, method, terminal);
                Print($"{variant}.{arm}", measured);
                var extraNs = measured.Ns - baseline.Ns;
                var extraBytes = (Math.Round(measured.Bytes / 8) - Math.Round(baseline.Bytes / 8)) * 8;
                Report.Goal($"{variant}.{arm}_minus_static.time", Signed(extraNs, "0.0"), "ns", extraNs <= CredentialTimeGoalNs, $"<= +{CredentialTimeGoalNs:0} ns");
                Report.Goal($"{variant}.{arm}_minus_static.alloc", Signed(extraBytes, "0"), "B", extraBytes <= 0, "+0 B");
            }

            if (s_factoryHandler.TryGetValue(terminal, out var unswitched))
            {
                Report.Delta($"{variant}.static_minus_1b_factory_handler.time", baseline.Ns - unswitched.Ns, "ns", note: "the static registration once the process has seen a credential, against 1b's run before it had (separate runs: noisy)");
                Report.Delta($"{variant}.static_minus_1b_factory_handler.alloc", baseline.Bytes - unswitched.Bytes, "B", "0");
            }
        }
    }

    /// <summary>
    /// Fleet mode's hot path: <see cref="RedisWiringBenchmarks"/>, the same named client with and without
    /// <c>AddRapidSosRedisTokenCache</c> (a real redis-server), warm caches; wall clock, as 1b.
    /// </summary>
    public static void RunRedis()
    {
        Report.Section("F0. hot path with the Redis cache registered: a named client (AddRapidSosBearerToken, loggers removed) in a container with AddRapidSosRedisTokenCache (real redis-server) vs the same container without; GET with Accept, warm caches, one request at a time");
        Report.Note($"each invocation awaits {RedisWiringBenchmarks.Ops} sends in a loop, as 1b; clock = wall clock; {Passes} passes, best median; alloc compared in whole 8-byte units, as 1b");

        var log = new AccumulationLogger();
        var config = Config(QuickJob(), log);
        var results = new List<BenchmarkReport>();
        for (var pass = 0; pass < Passes; pass++)
        {
            results.AddRange(BenchmarkRunner.Run<RedisWiringBenchmarks>(config).Reports);
        }

        if (results.Count != RedisBenchmarkCount * Passes || results.Any(r => r.ResultStatistics is null))
        {
            Console.Error.WriteLine(log.GetLog());
            Report.Check("redis_hot_path.benchmarks_with_results", results.Count(r => r.ResultStatistics is not null), RedisBenchmarkCount * Passes, RedisBenchmarkCount * Passes, "benchmarks");
            return;
        }

        foreach (var terminal in new[] { TerminalCompletion.Synchronous, TerminalCompletion.Yield })
        {
            var variant = $"fleet.hot_path.{(terminal == TerminalCompletion.Synchronous ? "sync" : "yield")}";
            var without = FindRedis(results, nameof(RedisWiringBenchmarks.WithoutRedis), terminal);
            var with = FindRedis(results, nameof(RedisWiringBenchmarks.WithRedis), terminal);
            Print($"{variant}.without_redis", without);
            Print($"{variant}.with_redis", with);
            var extraNs = with.Ns - without.Ns;
            var extraBytes = (Math.Round(with.Bytes / 8) - Math.Round(without.Bytes / 8)) * 8;
            var noise = 2 * Math.Sqrt((with.ErrorNs * with.ErrorNs) + (without.ErrorNs * without.ErrorNs));
            Report.Goal($"{variant}.with_minus_without.time", Signed(extraNs, "0.0"), "ns", extraNs <= Math.Max(noise, RedisTimeGoalNs), $"within noise (±{Report.Format(noise)} ns, two standard errors) or <= +{RedisTimeGoalNs:0} ns");
            Report.Goal($"{variant}.with_minus_without.alloc", Signed(extraBytes, "0"), "B", extraBytes <= 0, "+0 B");
        }
    }

    private static Measurement FindRedis(List<BenchmarkReport> reports, string method, TerminalCompletion terminal)
    {
        var best = reports
            .Where(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method
                && Equals(r.BenchmarkCase.Parameters[nameof(RedisWiringBenchmarks.Terminal)], terminal))
            .MinBy(r => r.ResultStatistics!.Median)!;
        var bytes = best.GcStats.GetBytesAllocatedPerOperation(best.BenchmarkCase) ?? -1;
        return new Measurement(best.ResultStatistics!.Median, best.ResultStatistics.StandardError, bytes);
    }

    private static Job QuickJob() => Job.Default
        .WithToolchain(InProcessEmitToolchain.Instance)
        .WithLaunchCount(1)
        .WithWarmupCount(2)
        .WithIterationCount(7)
        .WithIterationTime(TimeInterval.FromMilliseconds(100))
        .WithEvaluateOverhead(false)
        .WithId("Quick");

    private static ManualConfig Config(Job job, AccumulationLogger log) => ManualConfig.CreateEmpty()
        .AddJob(job)
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddLogger(log)
        .AddColumnProvider(DefaultColumnProviders.Instance)
        .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "RapidSos.Http.Auth.Benchmarks"))
        .WithOptions(ConfigOptions.DisableLogFile);

    private static Measurement FindCredential(List<BenchmarkReport> reports, string method, TerminalCompletion terminal)
    {
        var best = reports
            .Where(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method
                && Equals(r.BenchmarkCase.Parameters[nameof(CredentialWiringBenchmarks.Terminal)], terminal))
            .MinBy(r => r.ResultStatistics!.Median)!;
        var bytes = best.GcStats.GetBytesAllocatedPerOperation(best.BenchmarkCase) ?? -1;
        return new Measurement(best.ResultStatistics!.Median, best.ResultStatistics.StandardError, bytes);
    }

    private static Measurement FindWiring(List<BenchmarkReport> reports, string method, Wiring wiring, TerminalCompletion terminal)
    {
        var best = reports
            .Where(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method
                && Equals(r.BenchmarkCase.Parameters[nameof(AppWiringBenchmarks.Wiring)], wiring)
                && Equals(r.BenchmarkCase.Parameters[nameof(AppWiringBenchmarks.Terminal)], terminal))
            .MinBy(r => r.ResultStatistics!.Median)!;
        var bytes = best.GcStats.GetBytesAllocatedPerOperation(best.BenchmarkCase) ?? -1;
        return new Measurement(best.ResultStatistics!.Median, best.ResultStatistics.StandardError, bytes);
    }

    private static void Print(string name, Measurement m)
    {
        Report.Figure($"{name}.time", m.Ns, "ns", "0.0", $"±{Report.Format(m.ErrorNs)} ns");
        Report.Figure($"{name}.alloc", m.Bytes, "B", "0");
    }

    private static string Signed(double value, string format) => (value >= 0 ? "+" : string.Empty) + Report.Format(value, format);

    private static Measurement Find(List<BenchmarkReport> reports, string method, TerminalCompletion? terminal)
    {
        // The median, not the mean: a preempted iteration moves the mean, not the median. And the best pass.
        var best = reports
            .Where(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method
                && (terminal is null || Equals(r.BenchmarkCase.Parameters[nameof(SendAsyncBenchmarks.Terminal)], terminal)))
            .MinBy(r => r.ResultStatistics!.Median)!;
        var bytes = best.GcStats.GetBytesAllocatedPerOperation(best.BenchmarkCase) ?? -1;
        return new Measurement(best.ResultStatistics!.Median, best.ResultStatistics.StandardError, bytes);
    }

    private readonly record struct Measurement(double Ns, double ErrorNs, double Bytes);
}
