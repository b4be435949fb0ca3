using System.Globalization;
using System.Text;

namespace RapidSos.Http.Auth.SoakTests;

/// <summary>What a soak run saw, the checks it made and the text it prints.</summary>
internal sealed class SoakReport
{
    private const double MiB = 1024 * 1024;

    internal SoakReport()
    {
    }

    public required SoakOptions Options { get; init; }

    /// <summary>From the start of traffic until every worker finished (the run's duration plus the drain).</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>How long in-flight calls took to finish once the duration was over.</summary>
    public TimeSpan Drain { get; init; }

    public bool HardStopped { get; init; }

    public bool Aborted { get; init; }

    public long Requests { get; init; }

    public long Successes { get; init; }

    /// <summary>Successful calls whose body reached the API twice: a 401, a new token, and the retry.</summary>
    public long RetriedCalls { get; init; }

    /// <summary>
    /// Caller-visible failures that are allowed: a <see cref="RapidSosAuthenticationException"/> while no valid token
    /// existed, by what the failed token request ran into; "fail-fast" when no token request was made during the call
    /// and the call failed within the backoff window of the last, failed, token request.
    /// </summary>
    public IReadOnlyDictionary<string, long> AcceptableFailures { get; init; } = new Dictionary<string, long>();

    /// <summary>Caller-visible failures that are not allowed, by kind.</summary>
    public IReadOnlyDictionary<string, long> UnexplainedFailures { get; init; } = new Dictionary<string, long>();

    public IReadOnlyList<string> FailureExamples { get; init; } = [];

    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>Calls answered 401 after the retry while a revocation happened during the call.</summary>
    public long UnauthorizedAfterRetryDuringRevocation { get; init; }

    public long Abandoned { get; init; }

    public IReadOnlyDictionary<string, long> CallsByBodyKind { get; init; } = new Dictionary<string, long>();

    public long TokenRequests { get; init; }

    public long SuccessfulTokenRequests { get; init; }

    public long TokenRequestsSeenByTap { get; init; }

    /// <summary>The refusal phase, or null when the run was too short to hold it (or it never started).</summary>
    public RefusalPhaseReport? Refusal { get; init; }

    /// <summary>The token requests the fan-out bound applies to: all but those sent during the refusal phase, which has its own bound.</summary>
    public long TokenRequestsOutsideRefusal => TokenRequests - (Refusal?.TokenRequests ?? 0);

    /// <summary>Token requests the emulator refused (401, as the tap saw them): the refusal phase's, and none other.</summary>
    public long RefusedTokenRequests => FailedTokenRequestsByKind.GetValueOrDefault("401");

    public IReadOnlyDictionary<string, long> FailedTokenRequestsByKind { get; init; } = new Dictionary<string, long>();

    public int MaxConcurrentTokenRequests { get; init; }

    public long TokensExpiredOnArrival { get; init; }

    public long TokenRequestsDuringRetryAfterWithToken { get; init; }

    public long TokenRequestsDuringRetryAfterWithoutToken { get; init; }

    public long LifetimesElapsed { get; init; }

    public long TokenRequestBound => 1 + LifetimesElapsed + Revocations + InjectedFaults.Values.Sum();

    public IReadOnlyDictionary<InjectedFault, long> InjectedFaults { get; init; } = new Dictionary<InjectedFault, long>();

    public long ForcedFaults { get; init; }

    public long Revocations { get; init; }

    public long ApiRequests { get; init; }

    public long ApiUnauthorized { get; init; }

    /// <summary>The 401s the calls' outcomes account for: every arrival but a final non-401 answer.</summary>
    public long ApiUnauthorizedAccountedFor { get; init; }

    public long BodiesArrived { get; init; }

    public long BodiesCorrupted { get; init; }

    public long BodiesStray { get; init; }

    /// <summary>Calls whose body arrived a number of times their outcome does not allow (success: 1, or 2 after a 401; failure: at most 2).</summary>
    public long BodyArrivalViolations { get; init; }

    public TimeSpan P50 { get; init; }

    public TimeSpan P99 { get; init; }

    public TimeSpan MaxLatency { get; init; }

    public IReadOnlyList<ResourceSample> Samples { get; init; } = [];

    public bool ProviderInflightReadable { get; init; }

    public bool Quiesced { get; init; }

    public IReadOnlyDictionary<int, long> LibraryLogEvents { get; init; } = new Dictionary<int, long>();

    public IReadOnlyList<string> Violations { get; set; } = [];

    public bool Passed => Violations.Count == 0;

    public long AcceptableFailureCount => AcceptableFailures.Values.Sum();

    public long UnexplainedFailureCount => UnexplainedFailures.Values.Sum();

    /// <summary>The first sample taken after the warm-up, the baseline for growth.</summary>
    internal ResourceSample? Baseline => Samples.Where(s => s.Elapsed >= Options.WarmUp).Cast<ResourceSample?>().FirstOrDefault();

    internal static long MemoryLimit(long baseline) => Math.Max(2 * baseline, baseline + (50L * 1024 * 1024));

    public string Format()
    {
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        void Line(string text) => b.Append(text).Append('\n');
        static string Ms(TimeSpan t) => t.TotalMilliseconds < 10
            ? t.TotalMilliseconds.ToString("0.00", CultureInfo.InvariantCulture) + " ms"
            : t.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms";
        static string List<TKey>(IReadOnlyDictionary<TKey, long> counts) where TKey : notnull =>
            counts.Count == 0 ? "none" : string.Join(", ", counts.Where(p => p.Value > 0).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value}")));

        var seconds = Elapsed.TotalSeconds;
        var lifetime = Options.TokenLifetime.TotalSeconds;
        Line(string.Create(c, $"RapidSos.Http.Auth soak: {Options.Workers} workers, {Options.Duration.TotalSeconds:0.#} s + {Drain.TotalSeconds:0.0} s drain, real loopback HTTP to the gateway emulator, token lifetime {lifetime:0.#} s, seed {Options.Seed}, {Environment.ProcessorCount} CPUs"));
        Line(string.Create(c, $"  requests               {Requests} ({Requests / Math.Max(seconds, 0.001):0}/s): {Successes} succeeded ({RetriedCalls} of them after a 401 and one retry), {AcceptableFailureCount} acceptable failures, {UnexplainedFailureCount} unexplained failures"));
        Line($"  acceptable failures    {List(AcceptableFailures)}  (RapidSosAuthenticationException while no valid token existed, by what the failed token request ran into; \"fail-fast\": no token request during the call, within the backoff window of the last token request, which failed)");
        Line($"  unexplained failures   {List(UnexplainedFailures)}");
        Line(string.Create(c, $"  401 to the caller      {UnauthorizedAfterRetryDuringRevocation} after the retry while a revocation raced the call (reported, not failed); any other counts as unexplained above"));
        Line($"  bodies sent as         {List(CallsByBodyKind)}");
        Line(string.Create(c, $"  token requests         {TokenRequests} ({SuccessfulTokenRequests} issued a token, {TokenRequests - SuccessfulTokenRequests} failed; the back-channel tap saw {TokenRequestsSeenByTap}); at most {MaxConcurrentTokenRequests} at a time"));
        Line(string.Create(c, $"    bound                {TokenRequestBound} = 1 first token + {LifetimesElapsed} lifetimes elapsed ({seconds:0.0} s / {0.8 * lifetime:0.0#} s: the library refreshes at 80 % of a lifetime this short) + {Revocations} revocations + {InjectedFaults.Values.Sum()} injected faults; applies to the {TokenRequestsOutsideRefusal} sent outside the refusal phase"));
        Line($"    failed by kind       {List(FailedTokenRequestsByKind)}");
        Line(string.Create(c, $"    stalled, expired on arrival {TokensExpiredOnArrival}; sent within a Retry-After: {TokenRequestsDuringRetryAfterWithToken} background (token still valid), {TokenRequestsDuringRetryAfterWithoutToken} with callers waiting"));
        if (Refusal is { } refusal)
        {
            Line(string.Create(c, $"  refusal phase          {refusal.Duration.TotalSeconds:0.0} s, {refusal.TokenRequests} token requests, bound {refusal.Bound}: {(refusal.BoundHeld ? "held" : "EXCEEDED")}  (from {refusal.StartOffset.TotalSeconds:0.0} s: client secret rotated, so 401 invalid_client; current token {(refusal.RevokedAtStart ? "revoked" : "not revoked (none valid)")} first; bound one per second plus one; {refusal.TokenRequestsWithToken} of the requests sent while a valid token existed)"));
            Line(string.Create(c, $"    caller failures      {refusal.CallerFailures.Values.Sum()} during the phase: {List(refusal.CallerFailures)} (expected: no token can be had; the library fails callers at once while refused)"));
            var recovery = refusal.Recovery is { } after
                ? string.Create(c, $"first success {after.TotalSeconds:0.0#} s after the refusal ended, bound {refusal.RecoveryBound.TotalSeconds:0.#} s: {(refusal.RecoveryHeld ? "held" : "EXCEEDED")}")
                : string.Create(c, $"no call succeeded in the {Math.Max(refusal.TrafficAfterEnd.TotalSeconds, 0):0.0} s of traffic after the refusal ended (bound {refusal.RecoveryBound.TotalSeconds:0.#} s{(refusal.RecoveryCheckable ? string.Empty : ", not checked: too little traffic left")})");
            Line(string.Create(c, $"    recovery             {recovery}; {refusal.FailuresAfterUntilRecovery} caller failures from the end of the refusal until then"));
        }
        else
        {
            Line(string.Create(c, $"  refusal phase          not run (the run is shorter than 40 % of it + {Options.RefusalDuration.TotalSeconds:0.#} s of refusal + {Options.RefusalRecoveryBound.TotalSeconds:0.#} s of recovery + 1 s)"));
        }

        Line(string.Create(c, $"  injected faults        {InjectedFaults.Values.Sum()}: {List(InjectedFaults)} ({ForcedFaults} forced so that every kind occurs)"));
        Line(string.Create(c, $"  revocations            {Revocations} of the current token"));
        Line(string.Create(c, $"  API                    {ApiRequests} requests, {ApiUnauthorized} answered 401 ({ApiUnauthorizedAccountedFor} accounted for by call outcomes)"));
        Line(string.Create(c, $"  POST bodies            {BodiesArrived} arrived, {BodiesCorrupted} damaged, {BodiesStray} stray, {BodyArrivalViolations} calls with a wrong arrival count"));
        Line($"  latency                p50 {Ms(P50)}, p99 {Ms(P99)}, max {Ms(MaxLatency)} (every call, failures included; reported, not asserted)");

        if (Baseline is { } first && Samples.Count > 0)
        {
            var after = Samples.Where(s => s.Elapsed >= first.Elapsed).ToList();
            var loaded = after.Where(s => s.UnderLoad).DefaultIfEmpty(first).Last();
            var last = Samples[^1];
            string Row<T>(Func<ResourceSample, T> value, Func<T, string> show) =>
                $"{show(value(first))} at {first.Elapsed.TotalSeconds:0} s -> {show(value(loaded))} at {loaded.Elapsed.TotalSeconds:0} s (last under load) -> {show(value(last))} after the drain; max {show(after.Select(value).Max()!)}";
            static string Mb(long bytes) => (bytes / MiB).ToString("0.0", CultureInfo.InvariantCulture) + " MB";
            static string Num<T>(T value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "n/a";
            Line(string.Create(c, $"  growth ({Samples.Count} samples, 1 per {Options.SampleInterval.TotalSeconds:0.#} s after a full blocking GC; baseline after {Options.WarmUp.TotalSeconds:0} s warm-up):"));
            Line(string.Create(c, $"    managed memory       {Row(s => s.ManagedBytes, Mb)} (limit {Mb(MemoryLimit(first.ManagedBytes))})"));
            var underLoad = after.Where(s => s.UnderLoad).ToList();
            if (underLoad.Count >= 4)
            {
                var firstHalf = underLoad.Take(underLoad.Count / 2).ToList();
                var secondHalf = underLoad.Skip(underLoad.Count / 2).ToList();
                Line(string.Create(c, $"    memory trend         median {Mb(Median(firstHalf))} over {firstHalf[0].Elapsed.TotalSeconds:0}-{firstHalf[^1].Elapsed.TotalSeconds:0} s, {Mb(Median(secondHalf))} over {secondHalf[0].Elapsed.TotalSeconds:0}-{secondHalf[^1].Elapsed.TotalSeconds:0} s"));
            }

            Line(string.Create(c, $"    token cache entries  {Row(s => s.CacheEntries, v => Show(v))}"));
            Line(string.Create(c, $"    in-flight fetches    provider (HasInflightRequest): {(ProviderInflightReadable ? $"true in {Samples.Count(s => s.ProviderInflight == true)} of {Samples.Count} samples, {Show(last.ProviderInflight)} after the drain" : "not readable")}; on the wire: max {MaxConcurrentTokenRequests} at once, {last.TokenRequestsOnWire} after the drain"));
            Line(string.Create(c, $"    timers               {Row(s => s.Timers, Num)} (under load, each call's HttpClient timeout is one)"));
            Line(string.Create(c, $"    thread-pool threads  {Row(s => s.PoolThreads, Num)}"));
        }
        else
        {
            Line("  growth                 run shorter than the warm-up: not measured");
        }

        Line($"  library log events     {List(LibraryLogEvents)} (by event id)");
        foreach (var note in Notes)
        {
            Line($"  note: {note}");
        }

        foreach (var example in FailureExamples)
        {
            Line($"  example: {example}");
        }

        Line(Passed ? "  verdict                PASS" : $"  verdict                FAIL: {string.Join("; ", Violations)}");
        return b.ToString();
    }

    private static long Median(List<ResourceSample> samples)
    {
        var sorted = samples.Select(s => s.ManagedBytes).Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static string Show<T>(T? value)
        where T : struct => value switch
        {
            null => "n/a",
            bool flag => flag ? "true" : "false",
            { } v => Convert.ToString(v, CultureInfo.InvariantCulture)!,
        };
}

/// <summary>What the refusal phase saw (<see cref="RefusalPhase"/>).</summary>
internal sealed class RefusalPhaseReport
{
    /// <summary>When the phase started (the secret was rotated), from the start of the run.</summary>
    public TimeSpan StartOffset { get; init; }

    /// <summary>From the rotation of the secret to its restoration.</summary>
    public TimeSpan Duration { get; init; }

    public bool RevokedAtStart { get; init; }

    /// <summary>Token requests the tap saw sent during the phase.</summary>
    public long TokenRequests { get; init; }

    /// <summary>Of <see cref="TokenRequests"/>, those sent while a valid token existed (a background refresh before the revocation).</summary>
    public long TokenRequestsWithToken { get; init; }

    /// <summary>One per whole second of the phase, plus one.</summary>
    public long Bound { get; init; }

    public bool BoundHeld => TokenRequests <= Bound;

    /// <summary>Caller failures that ended during the phase, by the label the oracle gave them.</summary>
    public IReadOnlyDictionary<string, long> CallerFailures { get; init; } = new Dictionary<string, long>();

    public long FailuresAfterUntilRecovery { get; init; }

    /// <summary>From the end of the refusal to the end of the first successful call that started after it.</summary>
    public TimeSpan? Recovery { get; init; }

    public TimeSpan RecoveryBound { get; init; }

    /// <summary>How long the workers kept sending after the refusal ended.</summary>
    public TimeSpan TrafficAfterEnd { get; init; }

    /// <summary>Whether the traffic went on long enough after the refusal for a missing recovery to count.</summary>
    public bool RecoveryCheckable => Recovery is not null || TrafficAfterEnd >= RecoveryBound;

    public bool RecoveryHeld => Recovery is { } after ? after <= RecoveryBound : !RecoveryCheckable;
}
