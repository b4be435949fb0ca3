using System.Diagnostics;
using System.Globalization;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Tests.Shared.Fleet;

/// <summary>
/// A fleet of real processes against one gateway emulator (and one Redis, or none): starts the instances, releases
/// them at once with <c>go</c>, marks moments of the run with the gateway's token request counts, stops them and
/// collects their summaries, and kills any that is left on dispose. Shared by the fleet tests and the benchmark's
/// <c>--fleet</c> mode (compiled in from test/Shared/Fleet).
/// </summary>
internal sealed class FleetRun : IAsyncDisposable
{
    /// <summary>The safety net of every wait on the hosts: a slow machine is not a failure, a hang is.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly List<FleetInstance> _instances = [];
    private readonly List<FleetMark> _marks = [];
    private readonly FleetOptions _options;
    private int _started;

    private FleetRun(RapidSosGatewayEmulator gateway, FleetOptions options)
    {
        Gateway = gateway;
        _options = options;
    }

    /// <summary>The gateway every instance calls.</summary>
    public RapidSosGatewayEmulator Gateway { get; }

    /// <summary>The instances, in the order they were started.</summary>
    public IReadOnlyList<FleetInstance> Instances => _instances;

    /// <summary>The moments marked so far, "go" first.</summary>
    public IReadOnlyList<FleetMark> Marks => _marks;

    /// <summary>
    /// Starts <see cref="FleetOptions.Instances"/> hosts with <c>--wait-for-go</c> and waits until every one has built
    /// its container; none has called anything yet. Call <see cref="GoAsync"/> to release them.
    /// </summary>
    public static async Task<FleetRun> StartAsync(RapidSosGatewayEmulator gateway, FleetOptions options)
    {
        var run = new FleetRun(gateway, options);
        try
        {
            for (var i = 0; i < options.Instances; i++)
            {
                run.Launch(waitForGo: true);
            }

            await run.WhenAllAsync(i => i.Ready, "ready");
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    /// <summary>Releases every waiting instance at once, then marks the moment "go".</summary>
    public async Task<FleetMark> GoAsync()
    {
        foreach (var instance in _instances)
        {
            instance.Go();
        }

        return await MarkAsync("go");
    }

    /// <summary>Completes when every instance has had a call succeed.</summary>
    public Task WhenAllSucceededOnceAsync() => WhenAllAsync(i => i.FirstSuccess, "a successful call");

    /// <summary>Starts one more instance, not waiting for a go, and waits until it is ready.</summary>
    public async Task<FleetInstance> AddInstanceAsync()
    {
        var instance = Launch(waitForGo: false);
        await Within(instance.Ready, $"{instance.Name} to be ready", instance);
        return instance;
    }

    /// <summary>
    /// Marks this moment: the gateway's token request counts, then a snapshot of each running instance. Marks
    /// bracket a phase; the difference of two marks' counts is what the fleet sent in it.
    /// </summary>
    public async Task<FleetMark> MarkAsync(string name)
    {
        var timestamp = Stopwatch.GetTimestamp();
        var requests = Gateway.TokenRequestCount;
        var successful = Gateway.SuccessfulTokenRequestCount;
        var running = _instances.Where(i => !i.Summary.IsCompleted).ToList();
        var reports = await Task.WhenAll(running.Select(i => Within(i.SnapshotAsync(), $"a snapshot of {i.Name}", i)));
        var mark = new FleetMark(name, timestamp, requests, successful, running.Zip(reports).ToDictionary(p => p.First.Name, p => p.Second, StringComparer.Ordinal));
        _marks.Add(mark);
        return mark;
    }

    /// <summary>Tells every instance to stop (those with a duration may have already), and returns their summaries, in start order.</summary>
    public async Task<IReadOnlyList<FleetInstanceReport>> StopAsync()
    {
        foreach (var instance in _instances)
        {
            instance.Stop();
        }

        return await WaitForSummariesAsync();
    }

    /// <summary>Waits for every instance's summary (they stop by themselves after their duration), in start order.</summary>
    public async Task<IReadOnlyList<FleetInstanceReport>> WaitForSummariesAsync()
    {
        var summaries = new List<FleetInstanceReport>();
        foreach (var instance in _instances)
        {
            // A run with a duration may wait that long: the net is on top of it.
            summaries.Add(await Within(instance.Summary, $"the summary of {instance.Name}", instance, _options.Duration));
        }

        return summaries;
    }

    /// <summary>Every instance's last report and log, for a failure message.</summary>
    public string Logs() => string.Join(Environment.NewLine, _instances.Select(i => $"--- {i.Latest?.Describe() ?? i.Name} (pid {i.ProcessId}):{Environment.NewLine}{i.Log}"));

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_instances.Select(i => i.DisposeAsync().AsTask()));
    }

    private FleetInstance Launch(bool waitForGo)
    {
        var name = $"{_options.NamePrefix}-{Interlocked.Increment(ref _started).ToString(CultureInfo.InvariantCulture)}";
        var instance = FleetInstance.Start(name, Arguments(waitForGo));
        _instances.Add(instance);
        return instance;
    }

    private List<string> Arguments(bool waitForGo)
    {
        var arguments = new List<string>
        {
            "--gateway", Gateway.BaseAddress.AbsoluteUri,
            "--client-id", _options.ClientId,
            "--client-secret", _options.ClientSecret,
            "--workers", _options.Workers.ToString(CultureInfo.InvariantCulture),
            "--log-level", _options.LogLevel,
        };
        if (_options.Redis is { } redis)
        {
            arguments.AddRange(["--redis", redis]);
        }

        if (_options.RedisTimeout is { } timeout)
        {
            arguments.AddRange(["--redis-timeout-ms", ((long)timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)]);
        }

        if (_options.Duration is { } duration)
        {
            arguments.AddRange(["--seconds", duration.TotalSeconds.ToString(CultureInfo.InvariantCulture)]);
        }

        if (_options.Pace > TimeSpan.Zero)
        {
            arguments.AddRange(["--pace-ms", ((long)_options.Pace.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)]);
        }

        if (_options.ReportInterval > TimeSpan.Zero)
        {
            arguments.AddRange(["--report-ms", ((long)_options.ReportInterval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)]);
        }

        if (waitForGo)
        {
            arguments.Add("--wait-for-go");
        }

        return arguments;
    }

    private async Task WhenAllAsync(Func<FleetInstance, Task> signal, string what)
    {
        foreach (var instance in _instances)
        {
            await Within(signal(instance), $"{instance.Name}: {what}", instance);
        }
    }

    private static async Task<T> Within<T>(Task<T> signal, string what, FleetInstance instance, TimeSpan? extra = null)
    {
        await Within((Task)signal, what, instance, extra);
        return await signal;
    }

    private static async Task Within(Task signal, string what, FleetInstance instance, TimeSpan? extra = null)
    {
        try
        {
            await signal.WaitAsync(Patience + (extra ?? TimeSpan.Zero));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"Gave up waiting for {what}. Its last output:{Environment.NewLine}{instance.Log}", e);
        }
    }
}
