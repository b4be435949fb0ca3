using System.Globalization;
using Microsoft.Extensions.Logging;

namespace RapidSos.Http.Auth.FleetHost;

/// <summary>The host's command line. The client secret is kept here only to configure the library; it is never printed.</summary>
internal sealed class FleetHostOptions
{
    public const string Usage = """
        RapidSos.Http.Auth.FleetHost: one instance of a fleet calling the gateway's API through RapidSos.Http.Auth.
          --gateway <uri>          the gateway's base address (required)
          --client-id <id>         the client id (required)
          --client-secret <secret> the client secret (required; never printed)
          --redis <config>         a StackExchange.Redis configuration string: share tokens through Redis
                                   (AddRapidSosRedisTokenCache); without it, no Redis (each instance alone)
          --redis-timeout-ms <ms>  the cache's OperationTimeout (default: the library's)
          --workers <n>            concurrent loops calling the API (default 4)
          --seconds <s>            how long the load runs, from the go (default: until 'stop' or the end of stdin)
          --pace-ms <ms>           pause of each loop between calls (default 0: as fast as it can)
          --path <path>            the API path called with GET (default v1/ping)
          --wait-for-go            print 'ready', then wait for a 'go' line on stdin before the first call
          --report-ms <ms>         print a 'snapshot {json}' line this often (default 0: never)
          --name <name>            the instance's name in its reports (default: its process id)
          --log-level <level>      the library's log level on stderr (default Warning)
        stdout: 'ready', 'first-success', 'snapshot {json}', then one 'summary {json}' line at the end.
        stdin: 'go', 'snapshot', 'stop'; the end of stdin stops the run (the driver is gone).
        """;

    public required Uri Gateway { get; init; }

    public required string ClientId { get; init; }

    public required string ClientSecret { get; init; }

    public string? Redis { get; init; }

    public TimeSpan? RedisTimeout { get; init; }

    public int Workers { get; init; } = 4;

    public TimeSpan? Duration { get; init; }

    public TimeSpan Pace { get; init; }

    public string Path { get; init; } = "v1/ping";

    public bool WaitForGo { get; init; }

    public TimeSpan ReportInterval { get; init; }

    public string Name { get; init; } = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    public LogLevel LogLevel { get; init; } = LogLevel.Warning;

    /// <summary>Parses the command line; throws <see cref="FormatException"/> with a message fit for stderr.</summary>
    public static FleetHostOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var waitForGo = false;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (name == "--wait-for-go")
            {
                waitForGo = true;
                continue;
            }

            if (!name.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new FormatException($"Unexpected argument '{(name.StartsWith("--", StringComparison.Ordinal) ? name : "(a value)")}'.");
            }

            values[name] = args[++i];
        }

        string Required(string name) => values.TryGetValue(name, out var value) && value.Length > 0
            ? value
            : throw new FormatException($"{name} is required.");

        string? Optional(string name) => values.GetValueOrDefault(name);

        int Number(string name, int fallback, int min)
        {
            if (Optional(name) is not { } text)
            {
                return fallback;
            }

            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min
                ? n
                : throw new FormatException($"{name} must be a whole number >= {min}.");
        }

        var known = new HashSet<string>(StringComparer.Ordinal)
        {
            "--gateway", "--client-id", "--client-secret", "--redis", "--redis-timeout-ms", "--workers", "--seconds",
            "--pace-ms", "--path", "--report-ms", "--name", "--log-level",
        };
        if (values.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown)
        {
            throw new FormatException($"Unknown option {unknown}.");
        }

        if (!Uri.TryCreate(Required("--gateway"), UriKind.Absolute, out var gateway))
        {
            throw new FormatException("--gateway must be an absolute URI.");
        }

        var logLevel = LogLevel.Warning;
        if (Optional("--log-level") is { } level && !Enum.TryParse(level, ignoreCase: true, out logLevel))
        {
            throw new FormatException("--log-level must be a Microsoft.Extensions.Logging.LogLevel name.");
        }

        var seconds = 0.0;
        if (Optional("--seconds") is { } secondsText
            && (!double.TryParse(secondsText, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) || !(seconds > 0)))
        {
            throw new FormatException("--seconds must be a number > 0.");
        }

        var redisTimeout = Number("--redis-timeout-ms", 0, 0);
        return new FleetHostOptions
        {
            Gateway = gateway,
            ClientId = Required("--client-id"),
            ClientSecret = Required("--client-secret"),
            Redis = Optional("--redis"),
            RedisTimeout = redisTimeout > 0 ? TimeSpan.FromMilliseconds(redisTimeout) : null,
            Workers = Number("--workers", 4, 1),
            Duration = seconds > 0 ? TimeSpan.FromSeconds(seconds) : null,
            Pace = TimeSpan.FromMilliseconds(Number("--pace-ms", 0, 0)),
            Path = Optional("--path") ?? "v1/ping",
            WaitForGo = waitForGo,
            ReportInterval = TimeSpan.FromMilliseconds(Number("--report-ms", 0, 0)),
            Name = Optional("--name") ?? Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
            LogLevel = logLevel,
        };
    }
}
