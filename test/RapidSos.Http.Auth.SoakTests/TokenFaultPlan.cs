using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.SoakTests;

/// <summary>The kinds of fault the soak injects on the token endpoint.</summary>
internal enum InjectedFault
{
    ServerError,
    TooManyRequests,
    Stall,
    Malformed,
    ConnectionReset,
}

/// <summary>
/// The emulator's <see cref="RapidSosGatewayEmulator.TokenFaultRule"/>: draws each token request's fate from a seeded
/// <see cref="Random"/> at the configured rates, and counts what it injected. The first token request is always
/// answered, so the run starts from a token. While <see cref="Refusing"/> is set (the refusal phase) it injects nothing,
/// draws nothing and counts no turn: the emulator's own credential check then refuses the rotated secret, and the seeded
/// sequence after the phase does not depend on how many token requests the library sent during it.
/// </summary>
internal sealed class TokenFaultPlan
{
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    // The token request by which each kind has been injected at least once (with ForceEveryFaultKind).
    private static readonly int[] s_coverageTurns = [3, 5, 7, 9, 11];

    private readonly object _gate = new();
    private readonly Random _random;
    private readonly double[] _rates;
    private readonly EmulatorFault[] _faults;
    private readonly bool _forceEveryKind;
    private readonly long[] _injected = new long[KindCount];
    private long _decisions;
    private long _forced;
    private long _passedDuringRefusal;
    private bool _refusing;

    public TokenFaultPlan(SoakOptions options)
    {
        _random = new Random(options.Seed);
        _forceEveryKind = options.ForceEveryFaultKind;
        _rates = [options.ServerErrorRate, options.TooManyRequestsRate, options.StallRate, options.MalformedRate, options.ConnectionResetRate];
        _faults =
        [
            EmulatorFault.Detail(500, "Internal server error (injected by the soak test)."),
            EmulatorFault.TooManyRequests(RetryAfter),
            EmulatorFault.Stall(options.StallDuration),
            EmulatorFault.MalformedJson(),
            EmulatorFault.ConnectionReset(),
        ];
    }

    /// <summary>Gets or sets a value indicating whether the refusal phase is on: every token request is left to the credential check.</summary>
    public bool Refusing
    {
        get => Volatile.Read(ref _refusing);
        set => Volatile.Write(ref _refusing, value);
    }

    /// <summary>Token requests the plan let through untouched because the refusal phase was on.</summary>
    public long PassedDuringRefusal
    {
        get
        {
            lock (_gate)
            {
                return _passedDuringRefusal;
            }
        }
    }

    public static int KindCount => Enum.GetValues<InjectedFault>().Length;

    public long Decisions
    {
        get
        {
            lock (_gate)
            {
                return _decisions;
            }
        }
    }

    public long Forced
    {
        get
        {
            lock (_gate)
            {
                return _forced;
            }
        }
    }

    public long Total
    {
        get
        {
            lock (_gate)
            {
                return _injected.Sum();
            }
        }
    }

    /// <summary>The injected faults that make a token request fail (all but stalls, which answer late but answer).</summary>
    public long Failing => Total - Injected(InjectedFault.Stall);

    public long Injected(InjectedFault kind)
    {
        lock (_gate)
        {
            return _injected[(int)kind];
        }
    }

    public EmulatorFault? Decide(EmulatorRequest request)
    {
        _ = request;
        lock (_gate)
        {
            if (Refusing)
            {
                _passedDuringRefusal++;
                return null;
            }

            var turn = ++_decisions;
            if (turn == 1)
            {
                return null;
            }

            // Draw first, whatever happens next, so a forced fault does not shift the rest of the seeded sequence.
            var draw = _random.NextDouble();
            if (_forceEveryKind)
            {
                for (var kind = 0; kind < KindCount; kind++)
                {
                    if (_injected[kind] == 0 && turn >= s_coverageTurns[kind])
                    {
                        _forced++;
                        return Inject(kind);
                    }
                }
            }

            var threshold = 0.0;
            for (var kind = 0; kind < KindCount; kind++)
            {
                threshold += _rates[kind];
                if (draw < threshold)
                {
                    return Inject(kind);
                }
            }

            return null;
        }
    }

    private EmulatorFault Inject(int kind)
    {
        _injected[kind]++;
        return _faults[kind];
    }
}
