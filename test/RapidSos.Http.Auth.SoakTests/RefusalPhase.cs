using System.Diagnostics;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.SoakTests;

/// <summary>
/// The refusal phase: once per run, the token endpoint refuses the library's credentials for a few seconds while no
/// valid token exists. The emulator's client secret is rotated (<see cref="RapidSosGatewayEmulator.AddClient"/>), so its
/// own credential check answers every token request 401 <c>{"ErrorCode":"invalid_client",...}</c>, and the current
/// token is revoked, so that the refusal matters: the library has nothing to serve and cannot get anything. The fault
/// plan injects nothing meanwhile (<see cref="TokenFaultPlan.Refusing"/>). Then the secret is restored.
/// </summary>
/// <remarks>
/// What the phase checks: the library spaces its token requests against a refused secret (1 s, 2 s, 4 s, capped at
/// 5 s), so at most one per second plus one are sent during the phase; and calls succeed again soon after the refusal
/// ends (<see cref="SoakOptions.RefusalRecoveryBound"/>). The callers' failures meanwhile are expected and go through
/// the oracle like every other failure.
/// </remarks>
internal sealed class RefusalPhase(long origin)
{
    /// <summary>The secret the emulator expects during the phase; the library keeps sending the real one.</summary>
    public const string RotatedSecret = "soak-rotated-secret";

    private const int BucketCount = 200;

    private static readonly long s_bucketTicks = Stopwatch.Frequency / 10;

    private readonly object _gate = new();
    private readonly Dictionary<string, long> _failuresDuring = new(StringComparer.Ordinal);
    private readonly long[] _failuresAfter = new long[BucketCount];
    private long _start;
    private long _end;
    private long _recoveredAt;
    private volatile bool _active;

    /// <summary>Gets a value indicating whether the phase is on; the revoker leaves the token alone meanwhile.</summary>
    public bool Active => _active;

    public bool Ran => Volatile.Read(ref _end) != 0;

    public long Start => Volatile.Read(ref _start);

    public long End => Volatile.Read(ref _end);

    public bool RevokedAtStart { get; private set; }

    public long TokenRequests { get; private set; }

    public long TokenRequestsWithToken { get; private set; }

    public long RefusalsPassedByPlan { get; private set; }

    public TimeSpan StartOffset => Stopwatch.GetElapsedTime(origin, Start);

    public TimeSpan Duration => Ran ? Stopwatch.GetElapsedTime(Start, End) : TimeSpan.Zero;

    /// <summary>One per second of the phase, plus one: the library's shortest spacing after a refusal is 1 s (less 10 % jitter: 0.9 s, still one per whole second).</summary>
    public long Bound => (long)Math.Floor(Duration.TotalSeconds) + 1;

    /// <summary>From the end of the refusal to the end of the first successful call that started after it; null if none.</summary>
    public TimeSpan? Recovery
    {
        get
        {
            var at = Volatile.Read(ref _recoveredAt);
            return at == 0 ? null : Stopwatch.GetElapsedTime(End, at);
        }
    }

    public IReadOnlyDictionary<string, long> FailuresDuring
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, long>(_failuresDuring, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Caller failures from the end of the refusal until the first success (or the next 20 s, if none).</summary>
    public long FailuresAfterUntilRecovery
    {
        get
        {
            lock (_gate)
            {
                var end = End;
                var recovered = Volatile.Read(ref _recoveredAt);
                var buckets = recovered == 0 ? BucketCount : (int)Math.Min(BucketCount, ((recovered - end) / s_bucketTicks) + 1);
                return _failuresAfter.Take(buckets).Sum();
            }
        }
    }

    /// <summary>Waits for the phase's start, refuses for its duration, and restores the secret, whatever happens.</summary>
    public async Task RunAsync(SoakOptions options, RapidSosGatewayEmulator emulator, TokenFaultPlan plan, TokenOracle oracle, string clientId, string clientSecret, Func<bool> revoke, CancellationToken stop)
    {
        if (options.RefusalStart is not { } start)
        {
            return;
        }

        try
        {
            await Task.Delay(start - Stopwatch.GetElapsedTime(origin), stop);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        _active = true;
        plan.Refusing = true;
        try
        {
            emulator.AddClient(clientId, RotatedSecret);
            Volatile.Write(ref _start, oracle.OpenPhase());

            // A token request that passed the credential check just before the rotation lands within a moment; then revoke.
            await Task.Delay(50, CancellationToken.None);
            RevokedAtStart = revoke();
            // A timer may fire a hair early by the stopwatch's clock; the phase lasts at least its duration, so its bound holds whole seconds.
            for (var left = options.RefusalDuration - Stopwatch.GetElapsedTime(Start); left > TimeSpan.Zero; left = options.RefusalDuration - Stopwatch.GetElapsedTime(Start))
            {
                await Task.Delay(left + TimeSpan.FromMilliseconds(1), CancellationToken.None);
            }
        }
        finally
        {
            emulator.AddClient(clientId, clientSecret);
            var (end, sent, sentWithToken) = oracle.ClosePhase();
            plan.Refusing = false;
            TokenRequests = sent;
            TokenRequestsWithToken = sentWithToken;
            RefusalsPassedByPlan = plan.PassedDuringRefusal;
            Volatile.Write(ref _end, end);
            _active = false;
        }
    }

    /// <summary>Books a caller failure that ended at <paramref name="at"/>, under the label the oracle gave it.</summary>
    public void Failure(long at, string label)
    {
        var start = Start;
        if (start == 0 || at < start)
        {
            return;
        }

        var end = End;
        lock (_gate)
        {
            if (end == 0 || at < end)
            {
                _failuresDuring[label] = _failuresDuring.GetValueOrDefault(label) + 1;
            }
            else if ((at - end) / s_bucketTicks is var bucket && bucket < BucketCount)
            {
                _failuresAfter[bucket]++;
            }
        }
    }

    /// <summary>Books a successful call: the first one that started after the refusal ended marks the recovery.</summary>
    public void Success(long started, long at)
    {
        var end = End;
        if (end == 0 || started < end)
        {
            return;
        }

        var recovered = Volatile.Read(ref _recoveredAt);
        while ((recovered == 0 || at < recovered) && Interlocked.CompareExchange(ref _recoveredAt, at, recovered) is var seen && seen != recovered)
        {
            recovered = seen;
        }
    }
}
