using System.Globalization;

namespace RapidSos.Http.Auth.SoakTests;

/// <summary>The issue's promises as checks on a report: each broken one is a sentence in <see cref="SoakReport.Violations"/>.</summary>
/// <remarks>
/// No check involves a duration or a rate, so a slow or busy machine changes the numbers, not the verdict, except the
/// refusal phase's two: at most one token request per second against a refused secret, and a success again within
/// <see cref="SoakOptions.RefusalRecoveryBound"/> after it. Both are upper bounds on what the library is required to
/// wait, with slack; a slow machine makes the library send fewer requests, not more.
/// </remarks>
internal static class SoakChecks
{
    /// <summary>The token cache holds one entry per credential set; two allow for a replacement caught mid-way.</summary>
    public const int MaxCacheEntries = 2;

    public static IReadOnlyList<string> Check(SoakReport r, TokenFaultPlan plan)
    {
        var c = CultureInfo.InvariantCulture;
        var violations = new List<string>();
        void Fail(FormattableString message) => violations.Add(message.ToString(c));

        if (r.Aborted)
        {
            Fail($"the run was cancelled from outside before it finished");
        }

        if (r.HardStopped)
        {
            Fail($"{r.Abandoned} calls were still running {r.Options.DrainTimeout.TotalSeconds} s after the end and were cancelled");
        }

        if (r.Successes == 0)
        {
            Fail($"no call succeeded");
        }

        // 1. No caller-visible failure while a valid token could be had.
        if (r.UnexplainedFailureCount > 0)
        {
            Fail($"{r.UnexplainedFailureCount} caller-visible failures that no missing token explains ({string.Join(", ", r.UnexplainedFailures.Select(p => $"{p.Key} {p.Value}"))})");
        }

        // 2. No fan-out.
        if (r.TokenRequestsOutsideRefusal > r.TokenRequestBound)
        {
            Fail($"{r.TokenRequestsOutsideRefusal} token requests outside the refusal phase, more than the bound of {r.TokenRequestBound}");
        }

        // 2a. No hammering of a refused secret: spaced at least 1 s apart, so at most one per second plus one.
        if (r.Refusal is { } refusal)
        {
            if (!refusal.BoundHeld)
            {
                Fail($"{refusal.TokenRequests} token requests during the {refusal.Duration.TotalSeconds:0.0} s refusal phase, more than the bound of {refusal.Bound} (one per second plus one)");
            }

            if (!refusal.RecoveryHeld)
            {
                Fail($"no call succeeded within {refusal.RecoveryBound.TotalSeconds:0.#} s after the refusal ended ({(refusal.Recovery is { } after ? $"first success after {after.TotalSeconds:0.0} s" : "none")})");
            }
        }

        if (r.MaxConcurrentTokenRequests > 1)
        {
            Fail($"{r.MaxConcurrentTokenRequests} token requests were on the wire at once; single flight allows 1");
        }

        // Only once settled: the emulator counts a token request still on the wire (a stall) as not issued.
        var failedTokenRequests = r.TokenRequests - r.SuccessfulTokenRequests;
        if (r.Quiesced && failedTokenRequests > plan.Failing + r.RefusedTokenRequests)
        {
            Fail($"{failedTokenRequests} token requests failed but only {plan.Failing} faults that fail one were injected and {r.RefusedTokenRequests} were refused");
        }

        // 3. Every body intact, once per success, twice at most after a 401.
        if (r.BodiesCorrupted > 0)
        {
            Fail($"{r.BodiesCorrupted} POST bodies reached the API damaged");
        }

        if (r.BodiesStray > 0)
        {
            Fail($"{r.BodiesStray} POST bodies reached the API outside their call (a duplicate sent late, or no call header)");
        }

        if (r.BodyArrivalViolations > 0)
        {
            Fail($"{r.BodyArrivalViolations} calls whose body arrived a number of times their outcome does not allow");
        }

        // A cancelled call may leave its request on the wire: these books balance only after a clean drain.
        var drainedCleanly = !r.Aborted && !r.HardStopped;
        if (drainedCleanly && r.BodiesArrived != r.ApiRequests)
        {
            Fail($"the emulator counted {r.ApiRequests} API requests but the ledger saw {r.BodiesArrived}");
        }

        if (drainedCleanly && r.ApiUnauthorized != r.ApiUnauthorizedAccountedFor)
        {
            Fail($"the API answered 401 {r.ApiUnauthorized} times, but the calls' outcomes account for {r.ApiUnauthorizedAccountedFor}");
        }

        // 4. No growth.
        var maxCache = r.Samples.Max(s => s.CacheEntries) ?? 0;
        if (maxCache > MaxCacheEntries)
        {
            Fail($"the token cache held {maxCache} entries (at most {MaxCacheEntries} allowed)");
        }

        if (r.Baseline is { } baseline)
        {
            var limit = SoakReport.MemoryLimit(baseline.ManagedBytes);
            var worst = r.Samples.Where(s => s.Elapsed >= baseline.Elapsed).MaxBy(s => s.ManagedBytes);
            if (worst.ManagedBytes > limit)
            {
                Fail($"managed memory grew from {baseline.ManagedBytes / 1048576.0:0.0} MB to {worst.ManagedBytes / 1048576.0:0.0} MB at {worst.Elapsed.TotalSeconds:0} s (limit {limit / 1048576.0:0.0} MB)");
            }
        }

        if (!r.Aborted && !r.Quiesced)
        {
            Fail($"a token request was still in flight {r.Options.DrainTimeout.TotalSeconds} s after the traffic stopped");
        }

        // The run covers every fault kind (when it lasted long enough to reach every kind's turn).
        if (r.Options.ForceEveryFaultKind && plan.Decisions >= 11)
        {
            foreach (var (kind, count) in r.InjectedFaults)
            {
                if (count == 0)
                {
                    Fail($"no {kind} fault was injected");
                }
            }
        }

        return violations;
    }
}
