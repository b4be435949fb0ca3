using System.Net.Http.Headers;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RapidSos.Http.Auth.Benchmarks.HotPath;
using RapidSos.Http.Auth.Benchmarks.Quick;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Benchmarks.Anatomy;

/// <summary>
/// <c>--anatomy</c>: where <see cref="BearerTokenHandler"/>'s time and bytes over the floor go. Every arm is a named
/// client of one container (the factory wiring of <see cref="AppWiringBenchmarks"/>); the arms run interleaved,
/// round after round, and each figure is the median over the rounds (CPU time of the thread that ran the sends, process-wide allocated bytes).
/// </summary>
internal static class AnatomyRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = args.SkipWhile(a => a != "--rounds").Skip(1).Select(int.Parse).DefaultIfEmpty(15).First();
        PrintStateMachines();
        foreach (var terminal in new[] { TerminalCompletion.Synchronous, TerminalCompletion.Yield })
        {
            await RunTerminalAsync(terminal, rounds);
        }

        return 0;
    }

    private static async Task RunTerminalAsync(TerminalCompletion completion, int rounds)
    {
        using var terminal = new CannedTerminal(completion);
        using var gateway = RapidSosGatewayEmulator.CreateInMemory();
        var arms = new List<(string Name, Func<IServiceProvider, AccessToken, HttpMessageHandler> Create)>();
        void Arm(string name, Func<IServiceProvider, AccessToken, HttpMessageHandler>? create) => arms.Add((name, create!));

        Arm("no_handler", null);
        Arm("floor", (_, t) => new FloorHandler(new AuthenticationHeaderValue("Bearer", t.Value)));
        Arm("floor.non_retrying", (_, t) => new NonRetryingFloorHandler(new AuthenticationHeaderValue("Bearer", t.Value)));
        Arm("handler", (sp, _) => sp.GetRequiredService<BearerTokenHandler>());
        Arm("handler.field_provider", (sp, t) => new BearerTokenHandler(new FieldTokenProvider(t), Options(sp)));
        Arm("handler.counting_field_provider", (sp, t) => new BearerTokenHandler(new CountingFieldTokenProvider(t, Counter), Options(sp)));
        Arm("handler.provider_copy", (sp, t) => new BearerTokenHandler(ProviderCopy.Create(t, ProviderCopyShape.AsIs), Options(sp)));
        Arm("handler.provider_copy.no_counter_check", (sp, t) => new BearerTokenHandler(ProviderCopy.Create(t, ProviderCopyShape.NoCounterCheck), Options(sp)));
        Arm("handler.provider_copy.counter_in_lifecycle", (sp, t) => new BearerTokenHandler(ProviderCopy.Create(t, ProviderCopyShape.CounterInLifecycle), Options(sp)));
        Arm("handler.provider_copy.plain_reads", (sp, t) => new BearerTokenHandler(ProviderCopy.Create(t, ProviderCopyShape.PlainReads), Options(sp)));
        Arm("copy", Variant<Copy>);
        Arm("copy.no_null_check", Variant<NoNullCheck>);
        Arm("copy.no_origin_check", Variant<NoOrigin>);
        Arm("copy.origin_scheme_only", Variant<OriginSchemeOnly>);
        Arm("copy.origin_no_host", Variant<OriginNoHost>);
        Arm("copy.origin_array_loop", Variant<OriginArrayLoop>);
        Arm("copy.no_buffer_check", Variant<NoBuffer>);
        Arm("copy.field_provider", Variant<TrivialProvider>);
        Arm("copy.no_provider", Variant<NoProvider>);
        Arm("copy.no_retry_field", Variant<NoRetryField>);
        Arm("copy.floor_continuation", Variant<FloorContinuation>);
        Arm("copy.minimal", Variant<Minimal>);

        AccessToken? token = null;
        await using var pipeline = AuthPipeline.Create(gateway, services =>
        {
            services.AddLogging(b => b.ClearProviders());
            foreach (var (name, create) in arms)
            {
                var builder = services.AddHttpClient(name).RemoveAllLoggers().ConfigurePrimaryHttpMessageHandler(() => terminal);
                if (create is not null)
                {
                    builder.AddHttpMessageHandler(sp => (DelegatingHandler)create(sp, token!));
                }
            }
        });
        token = await pipeline.WarmAsync();
        var factory = pipeline.Services.GetRequiredService<IHttpMessageHandlerFactory>();
        var invokers = arms.Select(a => new HttpMessageInvoker(factory.CreateHandler(a.Name), disposeHandler: false)).ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(pipeline.BaseAddress, "v1/ping"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        var ops = completion == TerminalCompletion.Synchronous ? 50_000 : 20_000;
        var ns = arms.Select(_ => new List<double>()).ToArray();
        var bytes = arms.Select(_ => new List<double>()).ToArray();
        const int WarmupRounds = 3;
        for (var round = 0; round < rounds + WarmupRounds; round++)
        {
            // Rotate the order so that no arm always runs right after the same one.
            for (var k = 0; k < arms.Count; k++)
            {
                var i = (k + round) % arms.Count;
                var allocated = GC.GetTotalAllocatedBytes(precise: true);
                var wallStart = System.Diagnostics.Stopwatch.GetTimestamp();
                var cpuNs = await Task.Run(() => DriveAsync(invokers[i], request, ops));
                var wallNs = System.Diagnostics.Stopwatch.GetElapsedTime(wallStart).TotalNanoseconds;

                // The synchronous terminal never leaves the thread: its CPU time is exact. The yielding one may move
                // the loop to another pool thread, so it is timed on the wall clock (whose minimum is the quiet round).
                cpuNs = completion == TerminalCompletion.Synchronous ? cpuNs : wallNs;
                var allocatedAfter = GC.GetTotalAllocatedBytes(precise: true);
                if (round >= WarmupRounds && cpuNs > 0)
                {
                    ns[i].Add(completion == TerminalCompletion.Synchronous ? cpuNs / (ops - 1) : cpuNs / ops);
                    bytes[i].Add((double)(allocatedAfter - allocated) / ops);
                }
            }
        }

        var variant = completion == TerminalCompletion.Synchronous ? "sync" : "yield";
        Report.Section($"anatomy, factory wiring, {variant} terminal: {rounds} rounds x {ops} ops per arm, ns/op (sync: thread CPU time; yield: wall clock), median B/op, median B/op; deltas against the floor and the copy");
        var copyIndex = arms.FindIndex(a => a.Name == "copy");
        for (var i = 0; i < arms.Count; i++)
        {
            var line = $"anatomy.{variant}.{arms[i].Name}: min {ns[i].Min(),6:0.0} median {Median(ns[i]),6:0.0} ns  {Median(bytes[i]),5:0} B | vs floor {Delta(ns[i], ns[1])} {Median(bytes[i]) - Median(bytes[1]),+4:+0;-0} B";
            if (arms[i].Name.StartsWith("copy.", StringComparison.Ordinal))
            {
                line += $" | vs copy {Delta(ns[i], ns[copyIndex])} {Median(bytes[i]) - Median(bytes[copyIndex]),+4:+0;-0} B";
            }

            Console.WriteLine(line);
        }

        foreach (var invoker in invokers)
        {
            invoker.Dispose();
        }
    }

    private static readonly System.Diagnostics.Metrics.Meter s_meter = new("RapidSos.Http.Auth.Benchmarks.Anatomy");

    private static System.Diagnostics.Metrics.Counter<long> Counter { get; } = s_meter.CreateCounter<long>("anatomy.cache_hits");

    private static RapidSosAuthOptions Options(IServiceProvider services) => services.GetRequiredService<IOptionsMonitor<RapidSosAuthOptions>>().Get(Microsoft.Extensions.Options.Options.DefaultName);

    private static DelegatingHandler Variant<TVariant>(IServiceProvider services, AccessToken token)
        where TVariant : struct, IVariant =>
        new AnatomyHandler<TVariant>(services.GetRequiredService<ITokenProvider>(), token, Options(services).BaseAddress!);

    /// <summary>
    /// The CPU time of ops - 1 sends on the thread that ran them (after the first send, which may hop to the pool),
    /// or -1 when a send moved the loop to another thread (the figure would then be wrong).
    /// </summary>
    private static async Task<double> DriveAsync(HttpMessageInvoker invoker, HttpRequestMessage request, int ops)
    {
        _ = await invoker.SendAsync(request, CancellationToken.None).ConfigureAwait(false);
        request.Headers.Authorization = null;
        var thread = Environment.CurrentManagedThreadId;
        var start = ThreadCpuClock.Instance.GetTimestamp();
        var moved = false;
        for (var i = 1; i < ops; i++)
        {
            _ = await invoker.SendAsync(request, CancellationToken.None).ConfigureAwait(false);
            request.Headers.Authorization = null;
            moved |= Environment.CurrentManagedThreadId != thread;
        }

        return moved ? -1 : ThreadCpuClock.Instance.GetTimestamp() - start;
    }

    private static string Delta(List<double> arm, List<double> reference) =>
        FormattableString.Invariant($"min {arm.Min() - reference.Min(),6:+0.0;-0.0} median {Median(arm) - Median(reference),6:+0.0;-0.0} ns");

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The fields of each continuation's compiler-generated state machine: what its box holds.</summary>
    private static void PrintStateMachines()
    {
        Report.Section("state machines of the continuations that run when the response is pending (fields the box holds)");
        foreach (var (owner, method) in new[]
        {
            (typeof(BearerTokenHandler), "AwaitResponseAsync"),
            (typeof(FloorHandler), "AwaitResponseAsync"),
            (typeof(AnatomyHandler<Copy>), "AwaitResponseAsync"),
            (typeof(AnatomyHandler<Copy>), "AwaitResponseFloorShapeAsync"),
        })
        {
            var stateMachine = owner.GetMethod(method, BindingFlags.Instance | BindingFlags.NonPublic)!.GetCustomAttribute<AsyncStateMachineAttribute>()!.StateMachineType;
            var fields = stateMachine.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
            Console.WriteLine($"statemachine.{owner.Name.Split('`')[0]}.{method}: {fields.Length} fields: {string.Join(", ", fields.Select(f => $"{f.Name} ({f.FieldType.Name})"))}");
        }
    }
}
