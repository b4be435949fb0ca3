using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using RapidSos.Http.Auth.Tests.Shared.Fleet;

namespace RapidSos.Http.Auth.FleetHost;

/// <summary>
/// The load of one instance: <c>workers</c> loops, each calling the API and awaiting the answer before the next call,
/// until stopped. Counts every call, its outcome and the longest call; a call in flight when the stop comes is
/// finished and counted, never cancelled, so a stop is never a failure.
/// </summary>
internal sealed class FleetLoad
{
    private readonly HttpClient _client;
    private readonly Uri _path;
    private readonly TimeSpan _pace;
    private readonly FleetMeters _meters;
    private readonly string _name;
    private readonly ConcurrentDictionary<string, long> _failures = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _firstSuccess = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _calls;
    private long _successes;
    private long _maxLatencyTicks;
    private long _startedAt;

    public FleetLoad(HttpClient client, string path, TimeSpan pace, FleetMeters meters, string name)
    {
        _client = client;
        _path = new Uri(path, UriKind.Relative);
        _pace = pace;
        _meters = meters;
        _name = name;
    }

    /// <summary>Completes when a call first succeeds.</summary>
    public Task FirstSuccess => _firstSuccess.Task;

    /// <summary>Runs <paramref name="workers"/> loops until <paramref name="stop"/> is cancelled.</summary>
    public Task RunAsync(int workers, CancellationToken stop)
    {
        Interlocked.Exchange(ref _startedAt, Stopwatch.GetTimestamp());
        return Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(() => LoopAsync(stop), CancellationToken.None)));
    }

    public FleetInstanceReport Report(bool final)
    {
        var startedAt = Interlocked.Read(ref _startedAt);
        return new FleetInstanceReport
        {
            Instance = _name,
            ProcessId = Environment.ProcessId,
            Final = final,
            ApiCalls = Interlocked.Read(ref _calls),
            Successes = Interlocked.Read(ref _successes),
            Failures = new Dictionary<string, long>(_failures, StringComparer.Ordinal),
            MaxLatencyMs = TimeSpan.FromTicks(Interlocked.Read(ref _maxLatencyTicks)).TotalMilliseconds,
            TokenRequests = _meters.TokenRequests,
            FailedTokenRequests = _meters.FailedTokenRequests,
            SharedTokens = _meters.SharedTokens,
            SharedStoreErrors = _meters.SharedStoreErrors,
            UnauthorizedRetries = _meters.UnauthorizedRetries,
            ElapsedSeconds = startedAt == 0 ? 0 : Stopwatch.GetElapsedTime(startedAt).TotalSeconds,
        };
    }

    private async Task LoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await CallAsync();
            if (_pace > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(_pace, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task CallAsync()
    {
        var started = Stopwatch.GetTimestamp();
        string? failure = null;
        try
        {
            using var response = await _client.GetAsync(_path, CancellationToken.None);
            if (response.IsSuccessStatusCode)
            {
                // Read the body, as a caller would: the call is done when its answer is.
                _ = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            }
            else
            {
                failure = "status:" + ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
            }
        }
        catch (Exception ex)
        {
            failure = ex.GetType().Name;
        }

        var elapsed = Stopwatch.GetElapsedTime(started).Ticks;
        Interlocked.Increment(ref _calls);
        if (failure is null)
        {
            Interlocked.Increment(ref _successes);
            _firstSuccess.TrySetResult();
        }
        else
        {
            _failures.AddOrUpdate(failure, 1, static (_, n) => n + 1);
        }

        for (var seen = Interlocked.Read(ref _maxLatencyTicks); elapsed > seen; seen = Interlocked.Read(ref _maxLatencyTicks))
        {
            if (Interlocked.CompareExchange(ref _maxLatencyTicks, elapsed, seen) == seen)
            {
                break;
            }
        }
    }
}
