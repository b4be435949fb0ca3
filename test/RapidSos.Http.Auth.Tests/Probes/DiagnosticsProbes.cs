using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Probes;

/// <summary>Diagnostics cannot break a call: one broken sink at a time, cold stampede, refresh ahead, 401, failure.</summary>
[CancelAfter(15_000)]
[NonParallelizable]
public class DiagnosticsProbes
{
    public enum Broken
    {
        LoggerLog,
        LoggerScope,
        ActivityStarted,
        ActivityStopped,
        MeterCallback,
    }

    [Test]
    public async Task Probe_BrokenDiagnostics_EveryCallStillGetsItsToken([Values] Broken broken)
    {
        using var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == RapidSosAuthDefaults.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = _ =>
            {
                if (broken == Broken.ActivityStarted)
                {
                    throw new InvalidOperationException("started listener broken");
                }
            },
            ActivityStopped = _ =>
            {
                if (broken == Broken.ActivityStopped)
                {
                    throw new InvalidOperationException("stopped listener broken");
                }
            },
        };
        ActivitySource.AddActivityListener(activities);
        using var meters = new MeterListener
        {
            InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == RapidSosAuthDefaults.MeterName && broken == Broken.MeterCallback)
                {
                    l.EnableMeasurementEvents(i);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((_, _, _, _) => throw new InvalidOperationException("meter callback broken"));
        meters.SetMeasurementEventCallback<double>((_, _, _, _) => throw new InvalidOperationException("meter callback broken"));
        meters.Start();

        using var h = new ProviderHarness(services: s =>
        {
            if (broken is Broken.LoggerLog or Broken.LoggerScope)
            {
                s.AddSingleton<ILoggerProvider>(new SelectivelyBrokenLoggerProvider(broken == Broken.LoggerScope));
            }
        });
        var api = new RecordingApiHandler();
        using var client = Probe.Client(h, api);
        h.Endpoint.Hold();
        var cold = Enumerable.Range(0, 64).Select(_ => Task.Run(() => client.GetAsync("v1/a"))).ToArray();
        await Task.WhenAny(h.Endpoint.WaitForRequestsAsync(1), Task.WhenAll(cold)).WaitAsync(Probe.Bound);
        h.Endpoint.Release();
        await Task.WhenAll(cold.Select(c => c.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(Probe.Bound);

        var failures = cold.Where(c => c.IsFaulted).Select(c => c.Exception!.InnerException!.GetType().Name + ": " + c.Exception!.InnerException!.Message).Distinct().ToArray();
        Assert.That(failures, Is.Empty, $"{failures.Length} distinct failure(s) of {cold.Count(c => c.IsFaulted)} callers; token requests at the stub: {h.Endpoint.RequestCount}");

        h.Time.Advance(TimeSpan.FromSeconds(3599 - 299));
        (await client.GetAsync("v1/a").WaitAsync(Probe.Bound)).Dispose();
        await Poll.UntilAsync(() => h.Caching.Lifecycle!.State.Token?.Value == "token-2", "token-2 from refresh ahead", Probe.Bound);
        api.RejectedTokens.Add("token-2");
        using var replaced = await client.GetAsync("v1/a").WaitAsync(Probe.Bound);
        Assert.That(replaced.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        h.Endpoint.Respond = (_, _) => Probe.Status(HttpStatusCode.BadRequest);
        h.Time.Advance(TimeSpan.FromSeconds(3599));
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await client.GetAsync("v1/a").WaitAsync(Probe.Bound));
        Assert.That(h.Caching.HasInflightRequest, Is.False, "nothing stranded in flight");
    }

    private sealed class SelectivelyBrokenLoggerProvider(bool scope) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(scope);

        public void Dispose()
        {
        }

        private sealed class Logger(bool scope) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => scope ? throw new InvalidOperationException("logger scope broken") : null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (!scope)
                {
                    throw new InvalidOperationException("log sink broken");
                }
            }
        }
    }
}
