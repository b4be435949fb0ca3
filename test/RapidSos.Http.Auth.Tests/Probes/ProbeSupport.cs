using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Probes;

/// <summary>
/// A clock for probes: the wall clock (GetUtcNow) can be shifted against the monotonic one (timers, timestamps),
/// as an NTP correction or a VM resume does; and timers can be held, as a starved pool or a suspended host does.
/// </summary>
internal sealed class ProbeClock : TimeProvider
{
    private readonly List<HeldTimer> _held = [];

    public ProbeClock(FakeTimeProvider? fake = null)
    {
        Fake = fake ?? new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
    }

    public FakeTimeProvider Fake { get; }

    /// <summary>Added to the wall clock only; negative is a backwards jump.</summary>
    public TimeSpan Offset { get; set; }

    /// <summary>When set, timers created afterwards never fire until <see cref="FireHeldTimers"/>.</summary>
    public bool HoldTimers { get; set; }

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow() + Offset;

    public override long GetTimestamp() => Fake.GetTimestamp();

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (!HoldTimers)
        {
            return Fake.CreateTimer(callback, state, dueTime, period);
        }

        var timer = new HeldTimer(callback, state);
        lock (_held)
        {
            _held.Add(timer);
        }

        return timer;
    }

    public void FireHeldTimers()
    {
        HeldTimer[] all;
        lock (_held)
        {
            all = [.. _held];
        }

        foreach (var t in all)
        {
            t.Fire();
        }
    }

    private sealed class HeldTimer(TimerCallback callback, object? state) : ITimer
    {
        private bool _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period) => !_disposed;

        public void Fire()
        {
            if (!_disposed)
            {
                callback(state);
            }
        }

        public void Dispose() => _disposed = true;

        public ValueTask DisposeAsync()
        {
            _disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>An API that answers every request with 401, whatever the token; counts the sends.</summary>
internal sealed class AlwaysUnauthorizedApi : HttpMessageHandler
{
    private int _sends;

    public int Sends => Volatile.Read(ref _sends);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Task.FromResult(Send(request, cancellationToken));

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _sends);
        return new HttpResponseMessage(HttpStatusCode.Unauthorized) { RequestMessage = request };
    }
}


internal static class Probe
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(3);

    public static HttpClient Client(ProviderHarness h, HttpMessageHandler terminal)
    {
        var handler = h.Services.GetRequiredService<BearerTokenHandler>();
        handler.InnerHandler = terminal;
        return new HttpClient(handler) { BaseAddress = new Uri("https://api.test.example/") };
    }

    public static HttpResponseMessage Status(HttpStatusCode status, TimeSpan? retryAfter = null, DateTimeOffset? retryAt = null)
    {
        var response = StubTokenEndpoint.Json(status, """{"detail":"probe failure"}""");
        if (retryAfter is { } delta)
        {
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(delta);
        }

        if (retryAt is { } date)
        {
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(date);
        }

        return response;
    }

    /// <summary>Awaits <paramref name="task"/> within the bound; a hang becomes a "stranded" failure.</summary>
    public static async Task<Exception?> Outcome(Task task, string what)
    {
        try
        {
            await task.WaitAsync(Bound);
            return null;
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            Assert.Fail($"STRANDED: {what} did not complete within {Bound.TotalSeconds} s");
            throw;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    /// <summary>Runs <paramref name="action"/> on a dedicated thread (not the pool), as a synchronous caller.</summary>
    public static Task<T> OnThread<T>(Func<T> action)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                tcs.SetResult(action());
            }
            catch (Exception ex)
            {
                tcs.SetException(ex);
            }
        }) { IsBackground = true };
        thread.Start();
        return tcs.Task;
    }
}
