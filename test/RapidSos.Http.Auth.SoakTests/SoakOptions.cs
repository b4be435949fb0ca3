using System.Globalization;

namespace RapidSos.Http.Auth.SoakTests;

/// <summary>What one soak run does. The defaults are the CI run: 64 workers for 20 s.</summary>
internal sealed class SoakOptions
{
    /// <summary>Gets or sets how long the workers send requests; in-flight calls then drain.</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Gets or sets how many workers send requests concurrently, each one call at a time.</summary>
    public int Workers { get; set; } = 64;

    /// <summary>Gets or sets the cap on calls across all workers, so a run is bounded in count as well as time.</summary>
    public long MaxRequests { get; set; } = 20_000_000;

    /// <summary>Gets or sets the seed of every random choice the soak makes (faults, revocations, bodies).</summary>
    public int Seed { get; set; } = 20_261_127;

    /// <summary>Gets or sets the lifetime of the tokens the emulator issues.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets the share of token requests answered 500 <c>{"detail":...}</c>.</summary>
    public double ServerErrorRate { get; set; } = 0.05;

    /// <summary>Gets or sets the share of token requests answered 429 with <c>Retry-After: 1</c>.</summary>
    public double TooManyRequestsRate { get; set; } = 0.03;

    /// <summary>Gets or sets the share of token requests stalled for <see cref="StallDuration"/>, then answered normally.</summary>
    public double StallRate { get; set; } = 0.02;

    /// <summary>Gets or sets the share of token requests answered 200 with a truncated JSON body.</summary>
    public double MalformedRate { get; set; } = 0.03;

    /// <summary>Gets or sets the share of token requests whose connection is dropped without an answer.</summary>
    public double ConnectionResetRate { get; set; } = 0.02;

    /// <summary>Gets or sets how long a stalled token request waits before it is answered.</summary>
    public TimeSpan StallDuration { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Gets or sets the shortest wait between two revocations of the current token. With 1 to 5 s, most tokens still
    /// reach their refresh-ahead point (80 % of 2 s) and some are revoked first, so both paths are exercised.
    /// </summary>
    public TimeSpan MinRevocationInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the longest wait between two revocations of the current token.</summary>
    public TimeSpan MaxRevocationInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long in-flight calls may take to finish once <see cref="Duration"/> is over; past it they are
    /// cancelled and the run fails. Only a hang can reach it: the slowest legitimate call waits out one stall.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how long the refusal phase lasts: the token endpoint refuses the library's credentials (the client
    /// secret is rotated in the emulator, which answers 401 <c>invalid_client</c>) after the current token is revoked.
    /// Zero turns the phase off.
    /// </summary>
    public TimeSpan RefusalDuration { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Gets or sets how soon after the refusal ends a call must succeed again: the library's longest spacing after a
    /// refusal (5 s) plus its 10 % jitter plus 0.5 s of slack.
    /// </summary>
    public TimeSpan RefusalRecoveryBound { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>
    /// Gets when the refusal phase starts, from the start of the run: at 40 % of the duration, and not before the warm-up
    /// is over; null when the run is too short to hold the phase and its recovery bound with a second to spare.
    /// </summary>
    public TimeSpan? RefusalStart
    {
        get
        {
            var start = TimeSpan.FromTicks(Math.Max((Duration * 0.4).Ticks, (WarmUp + TimeSpan.FromSeconds(1)).Ticks));
            return RefusalDuration > TimeSpan.Zero && start + RefusalDuration + RefusalRecoveryBound + TimeSpan.FromSeconds(1) <= Duration ? start : null;
        }
    }

    /// <summary>Gets or sets how long the run warms up before the growth baseline is taken.</summary>
    public TimeSpan WarmUp { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Gets or sets how often memory, the cache and the in-flight token request are sampled.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets a value indicating whether every fault kind is injected at least once: a kind the dice have not
    /// picked by its turn (token requests 3, 5, 7, 9 and 11) is injected then. A 20 s run makes about 30 token requests,
    /// too few for rates of a few percent to be sure to cover all five kinds.
    /// </summary>
    public bool ForceEveryFaultKind { get; set; } = true;

    /// <summary>Parses <c>--duration</c>, <c>--workers</c>, <c>--seed</c> and <c>--max-requests</c>.</summary>
    /// <param name="args">The command line.</param>
    /// <returns>The options.</returns>
    /// <exception cref="FormatException">An argument is unknown or its value is invalid.</exception>
    public static SoakOptions Parse(IReadOnlyList<string> args)
    {
        var options = new SoakOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            var value = i + 1 < args.Count ? args[++i] : throw new FormatException($"{name} needs a value.");
            switch (name)
            {
                case "--duration":
                    options.Duration = ParseDuration(value);
                    break;
                case "--workers":
                    options.Workers = ParsePositive(name, value);
                    break;
                case "--seed":
                    options.Seed = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
                        ? seed
                        : throw new FormatException($"--seed must be an integer, not '{value}'.");
                    break;
                case "--max-requests":
                    options.MaxRequests = ParsePositive(name, value);
                    break;
                default:
                    throw new FormatException($"Unknown argument '{name}'.");
            }
        }

        return options;
    }

    /// <summary>Reads seconds (<c>120</c>, <c>90.5</c>), or a unit suffix (<c>500ms</c>, <c>30s</c>, <c>10m</c>, <c>2h</c>), or <c>hh:mm:ss</c>.</summary>
    internal static TimeSpan ParseDuration(string value)
    {
        double Number(string text) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new FormatException($"--duration must be seconds (120), 90s, 10m, 1h or hh:mm:ss, not '{value}'.");

        TimeSpan duration;
        if (value.Contains(':', StringComparison.Ordinal))
        {
            duration = TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw new FormatException($"--duration must be seconds (120), 90s, 10m, 1h or hh:mm:ss, not '{value}'.");
        }
        else if (value.EndsWith("ms", StringComparison.OrdinalIgnoreCase))
        {
            duration = TimeSpan.FromMilliseconds(Number(value[..^2]));
        }
        else
        {
            duration = char.ToLowerInvariant(value[^1]) switch
            {
                's' => TimeSpan.FromSeconds(Number(value[..^1])),
                'm' => TimeSpan.FromMinutes(Number(value[..^1])),
                'h' => TimeSpan.FromHours(Number(value[..^1])),
                _ => TimeSpan.FromSeconds(Number(value)),
            };
        }

        return duration > TimeSpan.Zero ? duration : throw new FormatException($"--duration must be positive, not '{value}'.");
    }

    private static int ParsePositive(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new FormatException($"{name} must be a positive integer, not '{value}'.");
}
