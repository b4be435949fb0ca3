using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace RapidSos.Http.Auth.Tests.Hygiene;

/// <summary>
/// Every text the library hands to an observer, as (sink, text) pairs: each log at every level (formatted
/// message, exception, every structured state value, every scope), every activity of the library's source and of
/// HttpClient's (names, status description, tags, events and their tags, links, baggage) and every tag of every
/// measurement of the library's meter and of HttpClient's.
/// </summary>
internal sealed class SinkRecorder : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Sink, string Text)> _texts = new();
    private readonly MeterListener _meters = new();
    private readonly ActivityListener _activities;
    private readonly int _tokenEndpointPort;
    private int _tokenRequestsTraced;
    private int _logs;
    private int _measurements;

    /// <param name="tokenEndpointPort">The port of the token endpoint whose token-request activities are counted.</param>
    public SinkRecorder(int tokenEndpointPort)
    {
        _tokenEndpointPort = tokenEndpointPort;
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (IsWatched(instrument.Meter.Name))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((instrument, _, tags, _) => RecordMeasurement(instrument, tags));
        _meters.SetMeasurementEventCallback<double>((instrument, _, tags, _) => RecordMeasurement(instrument, tags));
        _meters.SetMeasurementEventCallback<int>((instrument, _, tags, _) => RecordMeasurement(instrument, tags));
        _meters.Start();

        _activities = new ActivityListener
        {
            ShouldListenTo = source => IsWatched(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = RecordActivity,
        };
        ActivitySource.AddActivityListener(_activities);
    }

    /// <summary>Gets how many token-request activities for the watched port have stopped: the last thing the library reports of a token request.</summary>
    public int TokenRequestsTraced => Volatile.Read(ref _tokenRequestsTraced);

    public int Logs => Volatile.Read(ref _logs);

    public int Measurements => Volatile.Read(ref _measurements);

    /// <summary>Takes every text recorded since the last call.</summary>
    public List<(string Sink, string Text)> Drain()
    {
        var drained = new List<(string Sink, string Text)>();
        while (_texts.TryDequeue(out var text))
        {
            drained.Add(text);
        }

        return drained;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
        _meters.Dispose();
        _activities.Dispose();
    }

    internal static string Format(object? value) => value switch
    {
        null => string.Empty,
        string text => text,
        IEnumerable<KeyValuePair<string, object?>> pairs => string.Join(", ", pairs.Select(p => $"{p.Key}={Format(p.Value)}")),
        IEnumerable items => string.Join(", ", items.Cast<object?>().Select(Format)),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private static bool IsWatched(string name) =>
        name == RapidSosAuthDefaults.ActivitySourceName || name == RapidSosAuthDefaults.MeterName || name.StartsWith("System.Net.Http", StringComparison.Ordinal);

    private void Add(string sink, string? text) => _texts.Enqueue((sink, text ?? string.Empty));

    private void AddState(string sink, object? state)
    {
        if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            foreach (var pair in pairs)
            {
                Add($"{sink} {pair.Key}", Format(pair.Value));
            }
        }

        Add(sink, state?.ToString());
    }

    private void RecordMeasurement(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        Interlocked.Increment(ref _measurements);
        foreach (var tag in tags)
        {
            Add($"metric {instrument.Name} tag {tag.Key}", Format(tag.Value));
        }
    }

    private void RecordActivity(Activity activity)
    {
        var name = $"activity {activity.OperationName}";
        Add($"{name} display name", activity.DisplayName);
        Add($"{name} status", $"{activity.Status} {activity.StatusDescription}");
        foreach (var tag in activity.TagObjects)
        {
            Add($"{name} tag {tag.Key}", Format(tag.Value));
        }

        foreach (var e in activity.Events)
        {
            Add($"{name} event", e.Name);
            foreach (var tag in e.Tags)
            {
                Add($"{name} event {e.Name} tag {tag.Key}", Format(tag.Value));
            }
        }

        foreach (var link in activity.Links)
        {
            Add($"{name} link", Format(link.Tags));
        }

        foreach (var baggage in activity.Baggage)
        {
            Add($"{name} baggage {baggage.Key}", baggage.Value);
        }

        if (activity.Source.Name == RapidSosAuthDefaults.ActivitySourceName && activity.GetTagItem("server.port") is int port && port == _tokenEndpointPort)
        {
            Interlocked.Increment(ref _tokenRequestsTraced);
        }
    }

    private sealed class Logger(SinkRecorder recorder, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            recorder.AddState($"log scope ({category})", state);
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            Interlocked.Increment(ref recorder._logs);
            var sink = $"log {logLevel} {category}[{eventId.Id}]";
            recorder.Add($"{sink} message", formatter(state, exception));
            if (exception is not null)
            {
                recorder.Add($"{sink} exception", exception.ToString());
            }

            recorder.AddState($"{sink} state", state);
        }
    }
}
