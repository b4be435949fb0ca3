using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.SoakTests;

/// <summary>
/// The soak, shared by the NUnit test and <c>dotnet run</c>: the gateway emulator on Kestrel at 127.0.0.1 with a
/// token lifetime of a few seconds and faults on its token endpoint; an application wired as users wire it (a named
/// client with <see cref="BearerTokenHandler"/>, real time on both sides); workers that POST unique bodies to
/// <c>v1/echo</c> for a bounded time while a revoker revokes the current token at random moments, and once per run the
/// token endpoint refuses the credentials for a few seconds (<see cref="RefusalPhase"/>). Every call's outcome
/// is classified against an independent view of the token (<see cref="TokenOracle"/>), every body's arrivals are
/// counted on the emulator's side (<see cref="EchoLedger"/>), and memory, the cache and in-flight token requests are
/// sampled throughout (<see cref="ResourceSampler"/>).
/// </summary>
internal static class SoakEngine
{
    public const string ClientName = "soak";

    private const string ClientId = "emulator-client";

    private const string ClientSecret = "emulator-secret";

    private const int MaxExamples = 10;

    private const int MaxNotes = 3;

    // Raw UTF-8 for non-ASCII text, so multi-byte characters travel as such and must survive the retry intact.
    private static readonly JsonSerializerOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] s_alphabet =
        [.. "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.,:;/+=".Select(c => c.ToString()), "\"", "\\", "\n", "é", "ß", "€", "中", "😀", "🚑"];

    /// <summary>Runs one soak and returns its report. Never throws for what it observes; the report says.</summary>
    /// <param name="options">The run.</param>
    /// <param name="progress">Where a progress line goes every ten seconds; null for none.</param>
    /// <param name="cancellationToken">Stops the run early (it then fails); it also stops by itself.</param>
    public static async Task<SoakReport> RunAsync(SoakOptions options, TextWriter? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Workers, 1);

        var origin = Stopwatch.GetTimestamp();
        var plan = new TokenFaultPlan(options);
        var ledger = new EchoLedger(options.Workers);
        var oracle = new TokenOracle(origin);
        var logs = new LogEventCounter();

        await using var emulator = await RapidSosGatewayEmulator.StartAsync(
            new RapidSosGatewayEmulatorOptions
            {
                TokenLifetime = options.TokenLifetime,
                TimeProvider = TimeProvider.System,

                // The ledger and the counters do the bookkeeping; a short record keeps the emulator's memory flat.
                MaxRecordedRequests = 256,
            },
            cancellationToken);
        emulator.TokenFaultRule = plan.Decide;
        emulator.ApiFaultRule = ledger.Observe;

        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
        services.AddSingleton(TimeProvider.System);
        services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = emulator.BaseAddress;
            o.ClientId = ClientId;
            o.ClientSecret = ClientSecret;
        });
        services.AddHttpClient(RapidSosAuthDefaults.TokenClientName).AddHttpMessageHandler(() => new TokenOracle.Tap(oracle));
        services.AddHttpClient(ClientName, c =>
            {
                c.BaseAddress = emulator.BaseAddress;
                c.Timeout = options.DrainTimeout;
            })
            .ConfigurePrimaryHttpMessageHandler(emulator.CreateHandler)
            .AddHttpMessageHandler<BearerTokenHandler>();
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        using var trafficStop = new CancellationTokenSource();
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var samplingStop = new CancellationTokenSource();
        var phase = new RefusalPhase(origin);
        var run = new Run(origin, options, provider.GetRequiredService<IHttpClientFactory>(), ledger, oracle, phase, trafficStop.Token, hardStop.Token);
        var sampler = new ResourceSampler(provider.GetRequiredService<IMemoryCache>(), provider.GetRequiredService<ITokenProvider>(), oracle, run.Start, () => !trafficStop.IsCancellationRequested);

        var samplerTask = sampler.RunAsync(options.SampleInterval, samplingStop.Token);
        var revokerTask = RevokeAsync(run, emulator, trafficStop.Token);
        var phaseTask = phase.RunAsync(options, emulator, plan, oracle, ClientId, ClientSecret, () => RevokeCurrent(run, emulator), trafficStop.Token);
        var progressTask = progress is null ? Task.CompletedTask : ReportProgressAsync(run, emulator, sampler, progress, samplingStop.Token);
        var workers = new Task[options.Workers];
        for (var i = 0; i < workers.Length; i++)
        {
            var worker = i;
            workers[i] = Task.Run(() => WorkAsync(run, worker), CancellationToken.None);
        }

        var aborted = false;
        var hardStopped = false;
        var all = Task.WhenAll(workers);
        try
        {
            await Task.WhenAny(all, Task.Delay(options.Duration, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
            trafficStop.Cancel();
            var trafficEnd = Stopwatch.GetTimestamp();
            run.TrafficEnd = trafficEnd;
            if (await Task.WhenAny(all, Task.Delay(options.DrainTimeout, cancellationToken)) != all)
            {
                cancellationToken.ThrowIfCancellationRequested();
                hardStopped = true;
                await hardStop.CancelAsync();
            }

            await all;
            run.Drain = Stopwatch.GetElapsedTime(trafficEnd);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            aborted = true;
            await trafficStop.CancelAsync();
            await hardStop.CancelAsync();
            await Task.WhenAll(workers);
        }

        var elapsed = Stopwatch.GetElapsedTime(run.Start);
        var trafficTime = run.TrafficEnd == 0 ? elapsed : Stopwatch.GetElapsedTime(run.Start, run.TrafficEnd);
        await revokerTask;
        await phaseTask;

        // A background refresh may still be on the wire (a stall outlives the callers); let it land before the last look.
        var quiesceDeadline = Stopwatch.GetTimestamp() + (long)(options.DrainTimeout.TotalSeconds * Stopwatch.Frequency);
        var quiesced = false;
        while (!aborted && Stopwatch.GetTimestamp() < quiesceDeadline)
        {
            var look = sampler.Sample();
            if (look.TokenRequestsOnWire == 0 && look.ProviderInflight != true)
            {
                quiesced = true;
                break;
            }

            await Task.Delay(100, CancellationToken.None);
        }

        await samplingStop.CancelAsync();
        await samplerTask;
        await progressTask;

        return BuildReport(run, plan, ledger, oracle, logs, emulator, sampler, elapsed, trafficTime, aborted, hardStopped, quiesced);
    }

    private static async Task WorkAsync(Run run, int worker)
    {
        var random = new Random(unchecked((run.Options.Seed * 7919) + worker + 1));
        var stats = run.Stats[worker];
        long sequence = 0;
        while (!run.TrafficStop.IsCancellationRequested && Interlocked.Increment(ref run.Started) <= run.Options.MaxRequests)
        {
            sequence++;
            var kind = (BodyKind)(sequence % 3);
            var body = new EchoBody(worker, sequence, kind.ToString(), Payload(random));
            var bytes = JsonSerializer.SerializeToUtf8Bytes(body, s_json);
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/echo") { Content = CreateContent(kind, body, bytes) };
            request.Headers.TryAddWithoutValidation(EchoLedger.CallHeader, EchoLedger.HeaderValue(worker, sequence));

            run.Ledger.Begin(worker, sequence, bytes);
            var revocationsBefore = Volatile.Read(ref run.Revocations);
            var started = Stopwatch.GetTimestamp();
            var tokenValidAtStart = run.Oracle.HasValidToken(started);
            var latestRequestAtStart = run.Oracle.LatestRequest;
            Outcome outcome;
            string? detail = null;
            try
            {
                using var client = run.Factory.CreateClient(ClientName);
                using var response = await client.SendAsync(request, run.HardStop);
                var echoed = await response.Content.ReadAsByteArrayAsync(run.HardStop);
                outcome = response.StatusCode switch
                {
                    HttpStatusCode.OK when echoed.AsSpan().SequenceEqual(bytes) => Outcome.Success,
                    HttpStatusCode.OK => Outcome.EchoMismatch,
                    HttpStatusCode.Unauthorized => Outcome.Unauthorized,
                    _ => Outcome.OtherStatus,
                };
                if (outcome == Outcome.OtherStatus)
                {
                    detail = string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)response.StatusCode}");
                }
            }
            catch (RapidSosAuthenticationException ex)
            {
                outcome = Outcome.AuthenticationFailure;
                detail = ex.Message;
            }
            catch (OperationCanceledException) when (run.HardStop.IsCancellationRequested)
            {
                outcome = Outcome.Abandoned;
            }
            catch (Exception ex)
            {
                outcome = Outcome.OtherException;
                detail = $"{ex.GetType().Name}: {ex.Message}";
            }

            var ended = Stopwatch.GetTimestamp();
            var latency = Stopwatch.GetElapsedTime(started, ended);
            var (arrivals, corrupted) = run.Ledger.End(worker);
            var revocationRaced = Volatile.Read(ref run.Revocations) != revocationsBefore;
            var tokenValidThroughout = tokenValidAtStart && !revocationRaced && run.Oracle.HasValidToken(ended);
            stats.Latency.Record(latency);
            stats.ByBodyKind[(int)kind]++;
            var call = new CallFacts(started, ended, tokenValidAtStart, latestRequestAtStart, tokenValidThroughout, revocationRaced);
            var backOff = Classify(run, stats, outcome, detail, call, arrivals, corrupted, worker, sequence);
            if (backOff)
            {
                // A caller with no token would not retry in a tight loop either; keeps the run from spinning.
                try
                {
                    await Task.Delay(random.Next(10, 40), run.HardStop);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    /// <summary>Books one call; returns whether it failed (the worker then pauses briefly).</summary>
    private static bool Classify(Run run, WorkerStats stats, Outcome outcome, string? detail, CallFacts call, int arrivals, int corrupted, int worker, long sequence)
    {
        stats.Requests++;
        var started = call.Started;
        var revocationRaced = call.RevocationRaced;
        string Call() => string.Create(CultureInfo.InvariantCulture, $"call {worker}.{sequence} at {Stopwatch.GetElapsedTime(run.Start, started).TotalSeconds:0.000} s took {Stopwatch.GetElapsedTime(started, call.Ended).TotalMilliseconds:0} ms, body arrived {arrivals}x");
        if (outcome == Outcome.Success)
        {
            run.Phase.Success(started, call.Ended);
        }

        if (corrupted > 0)
        {
            run.Example($"{Call()}: {corrupted} arrival(s) damaged");
        }

        // Every arrival was answered 401 except a final one that was answered otherwise (the handler resends only after a 401).
        stats.Unauthorized401s += outcome is Outcome.Unauthorized or Outcome.AuthenticationFailure ? arrivals : Math.Max(arrivals - 1, 0);

        switch (outcome)
        {
            case Outcome.Success:
                stats.Successes++;
                if (arrivals == 2)
                {
                    stats.Retried++;
                }
                else if (arrivals != 1)
                {
                    stats.BodyArrivalViolations++;
                    run.Example($"{Call()}: succeeded, but its body arrived {arrivals} times");
                }

                return false;

            case Outcome.AuthenticationFailure:
                if (arrivals > 1)
                {
                    stats.BodyArrivalViolations++;
                }

                // Acceptable only if a token request failed during the call at a moment when no valid token existed
                // (none yet, expired, or revoked): the library had nothing to serve and could not get anything.
                // Or, failing fast: no valid token when the call started, the most recent token request failed with a
                // refusal or a Retry-After, and the call failed within that failure's backoff window.
                if (run.Oracle.ExplainsAuthenticationFailure(started, out var kind))
                {
                    stats.Count(stats.Acceptable, kind);
                    run.Phase.Failure(call.Ended, kind);
                }
                else if (run.Oracle.ExplainsFailFast(call.TokenValidAtStart, call.LatestRequestAtStart, call.Ended, out var failFast))
                {
                    stats.Count(stats.Acceptable, failFast);
                    run.Phase.Failure(call.Ended, failFast);
                }
                else
                {
                    var reason = call.TokenValidThroughout ? "while a valid token existed"
                        : call.TokenValidAtStart ? "with no token request failing for want of a token"
                        : "with no token request failing for want of a token, and outside any fail-fast window";
                    stats.Count(stats.Unexplained, $"RapidSosAuthenticationException {reason}");
                    run.Phase.Failure(call.Ended, "unexplained");
                    run.Example($"{Call()}: RapidSosAuthenticationException {reason} ({failFast}): {detail}; token events: {run.Oracle.Timeline()}");
                }

                return true;

            case Outcome.Unauthorized:
                if (arrivals != 2)
                {
                    stats.BodyArrivalViolations++;
                }

                if (revocationRaced)
                {
                    stats.UnauthorizedDuringRevocation++;
                    run.Phase.Failure(call.Ended, "401 during a revocation");
                    run.Note($"{Call()}: 401 after the retry, while a revocation raced the call");
                }
                else
                {
                    stats.Count(stats.Unexplained, "401 answered to the caller");
                    run.Phase.Failure(call.Ended, "unexplained");
                    run.Example($"{Call()}: 401 answered to the caller, no revocation during the call; token events: {run.Oracle.Timeline()}");
                }

                return true;

            case Outcome.Abandoned:
                stats.Abandoned++;
                return true;

            default:
                var label = outcome switch
                {
                    Outcome.EchoMismatch => "200 with a different body",
                    Outcome.OtherStatus => detail!,
                    _ => detail!.Split(':')[0],
                };
                stats.Count(stats.Unexplained, label);
                run.Phase.Failure(call.Ended, "unexplained");
                run.Example($"{Call()}: {detail ?? label}");
                if (arrivals > 2)
                {
                    stats.BodyArrivalViolations++;
                }

                return true;
        }
    }

    private static HttpContent CreateContent(BodyKind kind, EchoBody body, byte[] bytes) => kind switch
    {
        // ByteArrayContent: the handler sends it again as it is.
        BodyKind.Text => new StringContent(Encoding.UTF8.GetString(bytes), Encoding.UTF8, "application/json"),

        // A stream that can be read once: the handler must buffer it, or the retry would send nothing.
        BodyKind.Stream => new StreamContent(new ReadOnceStream(bytes)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },

        // What PostAsJsonAsync sends: serialised on each send, from the object.
        _ => JsonContent.Create(body, options: s_json),
    };

    private static string Payload(Random random)
    {
        var length = random.Next(16, 768);
        var builder = new StringBuilder(length * 2);
        for (var i = 0; i < length; i++)
        {
            builder.Append(s_alphabet[random.Next(s_alphabet.Length)]);
        }

        return builder.ToString();
    }

    private static async Task RevokeAsync(Run run, RapidSosGatewayEmulator emulator, CancellationToken stop)
    {
        var random = new Random(unchecked(run.Options.Seed + 104_729));
        var min = run.Options.MinRevocationInterval;
        var spread = run.Options.MaxRevocationInterval - min;
        while (true)
        {
            try
            {
                await Task.Delay(min + (spread * random.NextDouble()), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            // The refusal phase revokes the token itself when it starts and wants no other revocation meanwhile.
            if (!run.Phase.Active)
            {
                RevokeCurrent(run, emulator);
            }
        }
    }

    private static bool RevokeCurrent(Run run, RapidSosGatewayEmulator emulator)
    {
        if (run.Oracle.LatestToken is { } token && emulator.RevokeToken(token))
        {
            run.Oracle.MarkRevoked(token);
            Interlocked.Increment(ref run.Revocations);
            return true;
        }

        return false;
    }

    private static async Task ReportProgressAsync(Run run, RapidSosGatewayEmulator emulator, ResourceSampler sampler, TextWriter progress, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var samples = sampler.Samples;
                var memory = samples.Count == 0 ? 0 : samples[^1].ManagedBytes / (1024.0 * 1024.0);
                await progress.WriteLineAsync(string.Create(
                    CultureInfo.InvariantCulture,
                    $"soak: {Stopwatch.GetElapsedTime(run.Start).TotalSeconds:0} s, {Math.Min(Interlocked.Read(ref run.Started), run.Options.MaxRequests)} calls started, {emulator.TokenRequestCount} token requests, {Volatile.Read(ref run.Revocations)} revocations, {memory:0.0} MB managed"));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private static SoakReport BuildReport(
        Run run,
        TokenFaultPlan plan,
        EchoLedger ledger,
        TokenOracle oracle,
        LogEventCounter logs,
        RapidSosGatewayEmulator emulator,
        ResourceSampler sampler,
        TimeSpan elapsed,
        TimeSpan trafficTime,
        bool aborted,
        bool hardStopped,
        bool quiesced)
    {
        var options = run.Options;
        var total = new WorkerStats();
        foreach (var stats in run.Stats)
        {
            total.Add(stats);
        }

        var injected = Enum.GetValues<InjectedFault>().ToDictionary(k => k, plan.Injected);
        var phase = run.Phase;
        var refusal = phase.Ran
            ? new RefusalPhaseReport
            {
                StartOffset = phase.StartOffset,
                Duration = phase.Duration,
                RevokedAtStart = phase.RevokedAtStart,
                TokenRequests = phase.TokenRequests,
                TokenRequestsWithToken = phase.TokenRequestsWithToken,
                Bound = phase.Bound,
                CallerFailures = phase.FailuresDuring,
                FailuresAfterUntilRecovery = phase.FailuresAfterUntilRecovery,
                Recovery = phase.Recovery,
                RecoveryBound = options.RefusalRecoveryBound,
                TrafficAfterEnd = trafficTime - (phase.StartOffset + phase.Duration),
            }
            : null;
        var report = new SoakReport
        {
            Options = options,
            Elapsed = elapsed,
            Drain = run.Drain,
            HardStopped = hardStopped,
            Aborted = aborted,
            Requests = total.Requests,
            Successes = total.Successes,
            RetriedCalls = total.Retried,
            AcceptableFailures = total.Acceptable,
            UnexplainedFailures = total.Unexplained,
            FailureExamples = [.. run.Examples],
            Notes = [.. run.Notes],
            UnauthorizedAfterRetryDuringRevocation = total.UnauthorizedDuringRevocation,
            Abandoned = total.Abandoned,
            CallsByBodyKind = Enum.GetValues<BodyKind>().ToDictionary(k => k.ToString(), k => total.ByBodyKind[(int)k]),
            TokenRequests = emulator.TokenRequestCount,
            SuccessfulTokenRequests = emulator.SuccessfulTokenRequestCount,
            TokenRequestsSeenByTap = oracle.Sent,
            Refusal = refusal,
            FailedTokenRequestsByKind = oracle.FailuresByKind,
            MaxConcurrentTokenRequests = oracle.MaxConcurrentTokenRequests,
            TokensExpiredOnArrival = oracle.ExpiredOnArrival,
            TokenRequestsDuringRetryAfterWithToken = oracle.SentDuringRetryAfterWithToken,
            TokenRequestsDuringRetryAfterWithoutToken = oracle.SentDuringRetryAfterWithoutToken,
            LifetimesElapsed = (long)Math.Floor(elapsed / (options.TokenLifetime * 0.8)),
            InjectedFaults = injected,
            ForcedFaults = plan.Forced,
            Revocations = Volatile.Read(ref run.Revocations),
            ApiRequests = emulator.ApiRequestCount,
            ApiUnauthorized = emulator.UnauthorizedCount,
            ApiUnauthorizedAccountedFor = total.Unauthorized401s,
            BodiesArrived = ledger.Arrivals,
            BodiesCorrupted = ledger.Corrupted,
            BodiesStray = ledger.Stray,
            BodyArrivalViolations = total.BodyArrivalViolations,
            P50 = total.Latency.Percentile(50),
            P99 = total.Latency.Percentile(99),
            MaxLatency = total.Latency.Max,
            Samples = sampler.Samples,
            ProviderInflightReadable = sampler.CanReadProviderInflight,
            Quiesced = quiesced,
            LibraryLogEvents = logs.Counts,
        };

        report.Violations = SoakChecks.Check(report, plan);
        return report;
    }

    private enum BodyKind
    {
        Text,
        Stream,
        Json,
    }

    private enum Outcome
    {
        Success,
        EchoMismatch,
        Unauthorized,
        OtherStatus,
        AuthenticationFailure,
        OtherException,
        Abandoned,
    }

    /// <summary>The body every call posts: unique per call, with a payload of random length and characters.</summary>
    private sealed record EchoBody(int Worker, long Sequence, string Kind, string Payload);

    /// <summary>What a call's classification needs to know about it, taken by its worker.</summary>
    private readonly record struct CallFacts(long Started, long Ended, bool TokenValidAtStart, TokenRequestRecord? LatestRequestAtStart, bool TokenValidThroughout, bool RevocationRaced);

    /// <summary>Everything the workers share.</summary>
    private sealed class Run(long origin, SoakOptions options, IHttpClientFactory factory, EchoLedger ledger, TokenOracle oracle, RefusalPhase phase, CancellationToken trafficStop, CancellationToken hardStop)
    {
        public long Started;
        public long Revocations;
        public long TrafficEnd;
        private int _examples;
        private int _notes;

        public SoakOptions Options { get; } = options;

        public IHttpClientFactory Factory { get; } = factory;

        public EchoLedger Ledger { get; } = ledger;

        public TokenOracle Oracle { get; } = oracle;

        public RefusalPhase Phase { get; } = phase;

        public CancellationToken TrafficStop { get; } = trafficStop;

        public CancellationToken HardStop { get; } = hardStop;

        public long Start { get; } = origin;

        public TimeSpan Drain { get; set; }

        public WorkerStats[] Stats { get; } = [.. Enumerable.Range(0, options.Workers).Select(_ => new WorkerStats())];

        public System.Collections.Concurrent.ConcurrentQueue<string> Examples { get; } = new();

        public System.Collections.Concurrent.ConcurrentQueue<string> Notes { get; } = new();

        /// <summary>Keeps the first few violations, so a failing run shows what happened without keeping every failure.</summary>
        public void Example(string text)
        {
            if (Interlocked.Increment(ref _examples) <= MaxExamples)
            {
                Examples.Enqueue(text);
            }
        }

        /// <summary>Keeps the first few noteworthy events that are not violations, apart from the violations.</summary>
        public void Note(string text)
        {
            if (Interlocked.Increment(ref _notes) <= MaxNotes)
            {
                Notes.Enqueue(text);
            }
        }
    }

    /// <summary>One worker's tallies, merged at the end: no contention between workers while the run goes.</summary>
    private sealed class WorkerStats
    {
        public long Requests;
        public long Successes;
        public long Retried;
        public long UnauthorizedDuringRevocation;
        public long Abandoned;
        public long BodyArrivalViolations;
        public long Unauthorized401s;

        public LatencyHistogram Latency { get; } = new();

        public long[] ByBodyKind { get; } = new long[3];

        public Dictionary<string, long> Acceptable { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> Unexplained { get; } = new(StringComparer.Ordinal);

        public void Count(Dictionary<string, long> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;

        public void Add(WorkerStats other)
        {
            Requests += other.Requests;
            Successes += other.Successes;
            Retried += other.Retried;
            UnauthorizedDuringRevocation += other.UnauthorizedDuringRevocation;
            Abandoned += other.Abandoned;
            BodyArrivalViolations += other.BodyArrivalViolations;
            Unauthorized401s += other.Unauthorized401s;
            Latency.Add(other.Latency);
            for (var i = 0; i < ByBodyKind.Length; i++)
            {
                ByBodyKind[i] += other.ByBodyKind[i];
            }

            foreach (var (key, value) in other.Acceptable)
            {
                Acceptable[key] = Acceptable.GetValueOrDefault(key) + value;
            }

            foreach (var (key, value) in other.Unexplained)
            {
                Unexplained[key] = Unexplained.GetValueOrDefault(key) + value;
            }
        }
    }

    /// <summary>A body that can be read once and not rewound, like a network or file stream.</summary>
    private sealed class ReadOnceStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes, writable: false);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
