using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace RapidSos.Http.Auth.Tests.Shared.Fleet;

/// <summary>
/// One fleet host process: started with its command line, driven through its stdin, read through its stdout
/// (<see cref="FleetProtocol"/>), its stderr kept (the last lines) for failure messages, killed on dispose if it is
/// still running. Every wait is an explicit signal from the host's output, never a poll.
/// </summary>
internal sealed class FleetInstance : IAsyncDisposable
{
    private const int LogLinesKept = 200;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstSuccess = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<FleetInstanceReport> _summary = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<TaskCompletionSource<FleetInstanceReport>> _snapshotWaiters = new();
#if NET9_0_OR_GREATER
    private readonly Lock _stdin = new();
#else
    private readonly object _stdin = new();
#endif
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FleetInstanceReport? _latest;
    private int? _exitCode;

    private FleetInstance(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    /// <summary>The instance's name (<c>--name</c>).</summary>
    public string Name { get; }

    /// <summary>The host's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Completes when the host has built its container (faults if it exits first).</summary>
    public Task Ready => _ready.Task;

    /// <summary>Completes when the host's first API call succeeded (faults if it exits first).</summary>
    public Task FirstSuccess => _firstSuccess.Task;

    /// <summary>The host's final report (faults if it exits without one).</summary>
    public Task<FleetInstanceReport> Summary => _summary.Task;

    /// <summary>The last snapshot the host reported, or <see langword="null"/> before the first.</summary>
    public FleetInstanceReport? Latest => Volatile.Read(ref _latest);

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the host wrote to stderr (its logs), for a failure message.</summary>
    public string Log
    {
        get
        {
            var builder = new StringBuilder();
            foreach (var line in _log)
            {
                builder.AppendLine(line);
            }

            return builder.ToString();
        }
    }

    /// <summary>Starts <c>dotnet &lt;host&gt; <paramref name="arguments"/></c>; does not wait for it to be ready.</summary>
    public static FleetInstance Start(string name, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(FleetHostLocator.DotnetPath())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(FleetHostLocator.HostPath());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add("--name");
        start.ArgumentList.Add(name);

        // The host's own settings, not whatever this process (a test host, a benchmark) runs with.
        start.Environment.Remove("DOTNET_gcServer");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var instance = new FleetInstance(name, process);
        process.OutputDataReceived += (_, e) => instance.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => instance.OnError(e.Data);
        process.Exited += (_, _) => _ = instance.OnExitedAsync();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return instance;
    }

    /// <summary>Tells the host to start its load (it was started with <c>--wait-for-go</c>).</summary>
    public void Go() => Send(FleetProtocol.Go);

    /// <summary>Tells the host to stop; its <see cref="Summary"/> follows.</summary>
    public void Stop() => Send(FleetProtocol.Stop);

    /// <summary>Asks the host for a snapshot and returns it (or the next one it prints).</summary>
    public Task<FleetInstanceReport> SnapshotAsync()
    {
        var waiter = new TaskCompletionSource<FleetInstanceReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        _snapshotWaiters.Enqueue(waiter);
        Send(FleetProtocol.Snapshot);
        if (_exitCode is not null)
        {
            waiter.TrySetException(Gone("a snapshot"));
        }

        return waiter.Task;
    }

    /// <summary>Kills the host if it still runs.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (InvalidOperationException)
        {
            // Never started, or already gone.
        }
        catch (TimeoutException)
        {
            // Left to the operating system.
        }

        _process.Dispose();
    }

    private void Send(string line)
    {
        lock (_stdin)
        {
            try
            {
                _process.StandardInput.WriteLine(line);
                _process.StandardInput.Flush();
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
            {
                // The host has exited: its signals fault with its log.
            }
        }
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            _stdoutClosed.TrySetResult();
            return;
        }

        if (line == FleetProtocol.Ready)
        {
            _ready.TrySetResult();
        }
        else if (line == FleetProtocol.FirstSuccess)
        {
            _firstSuccess.TrySetResult();
        }
        else if (line.StartsWith(FleetProtocol.SnapshotPrefix, StringComparison.Ordinal))
        {
            var report = Parse(line[FleetProtocol.SnapshotPrefix.Length..]);
            Volatile.Write(ref _latest, report);
            if (_snapshotWaiters.TryDequeue(out var waiter))
            {
                waiter.TrySetResult(report);
            }
        }
        else if (line.StartsWith(FleetProtocol.SummaryPrefix, StringComparison.Ordinal))
        {
            var report = Parse(line[FleetProtocol.SummaryPrefix.Length..]);
            Volatile.Write(ref _latest, report);
            _summary.TrySetResult(report);
        }
        else
        {
            Keep("stdout: " + line);
        }
    }

    private void OnError(string? line)
    {
        if (line is null)
        {
            _stderrClosed.TrySetResult();
            return;
        }

        Keep(line);
    }

    private async Task OnExitedAsync()
    {
        try
        {
            _exitCode = _process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            // Disposed meanwhile.
        }

        // The last lines may still be on their way: read to the end of both streams first.
        await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(static _ => { }, TaskScheduler.Default);
        _ready.TrySetException(Gone("ready"));
        _firstSuccess.TrySetException(Gone("a successful call"));
        _summary.TrySetException(Gone("its summary"));
        while (_snapshotWaiters.TryDequeue(out var waiter))
        {
            waiter.TrySetException(Gone("a snapshot"));
        }
    }

    private InvalidOperationException Gone(string what)
    {
        var code = _exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?";
        return new InvalidOperationException($"Fleet host {Name} exited (code {code}) before {what}. Its last output:{Environment.NewLine}{Log}");
    }

    private static FleetInstanceReport Parse(string json) =>
        JsonSerializer.Deserialize(json, FleetJsonContext.Default.FleetInstanceReport)
        ?? throw new InvalidDataException("A fleet host reported null.");

    private void Keep(string line)
    {
        _log.Enqueue(line);
        while (_log.Count > LogLinesKept && _log.TryDequeue(out _))
        {
        }
    }
}
