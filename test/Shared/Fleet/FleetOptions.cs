namespace RapidSos.Http.Auth.Tests.Shared.Fleet;

/// <summary>How a <see cref="FleetRun"/> starts its instances: every instance gets the same command line but its name.</summary>
internal sealed record FleetOptions
{
    /// <summary>How many instances (processes).</summary>
    public int Instances { get; init; } = 3;

    /// <summary>Concurrent loops calling the API in each instance.</summary>
    public int Workers { get; init; } = 4;

    /// <summary>The client the instances authenticate as.</summary>
    public string ClientId { get; init; } = "emulator-client";

    /// <summary>Its secret: passed to each host on its command line, never written anywhere else.</summary>
    public string ClientSecret { get; init; } = "emulator-secret";

    /// <summary>A StackExchange.Redis configuration string: the instances share tokens through it. <see langword="null"/>: no Redis, each instance alone.</summary>
    public string? Redis { get; init; }

    /// <summary>The Redis cache's OperationTimeout; <see langword="null"/> for the library's default.</summary>
    public TimeSpan? RedisTimeout { get; init; }

    /// <summary>How long each instance runs its load after the go; <see langword="null"/>: until <see cref="FleetRun.StopAsync"/>.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Each loop's pause between calls; zero: as fast as it can.</summary>
    public TimeSpan Pace { get; init; }

    /// <summary>How often each instance reports a snapshot (<see cref="FleetInstance.Latest"/>); zero: never.</summary>
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The library's log level in each host, on its stderr (kept by <see cref="FleetInstance.Log"/>).</summary>
    public string LogLevel { get; init; } = "Warning";

    /// <summary>The prefix of the instances' names: <c>instance-1</c>, <c>instance-2</c>...</summary>
    public string NamePrefix { get; init; } = "instance";
}
