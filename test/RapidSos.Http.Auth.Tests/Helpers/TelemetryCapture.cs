using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RapidSos.Http.Auth.Tests.Helpers;

/// <summary>
/// Captures, as text, every metric measurement's tags and every activity's name, tags, events and status
/// from every source in the process while it lives: for searching telemetry for secrets.
/// </summary>
internal sealed class TelemetryCapture : IDisposable
{
    private readonly ConcurrentQueue<string> _text = new();
    private readonly MeterListener _meters = new();
    private readonly ActivityListener _activities;

    public TelemetryCapture()
    {
        _meters.InstrumentPublished = (instrument, listener) => listener.EnableMeasurementEvents(instrument);
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meters.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meters.Start();

        _activities = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                _text.Enqueue($"activity {activity.Source.Name}/{activity.OperationName} {activity.DisplayName} status={activity.Status} {activity.StatusDescription}");
                foreach (var tag in activity.TagObjects)
                {
                    _text.Enqueue($"  tag {tag.Key}={tag.Value}");
                }

                foreach (var e in activity.Events)
                {
                    _text.Enqueue($"  event {e.Name} " + string.Join(" ", e.Tags.Select(t => $"{t.Key}={t.Value}")));
                }
            },
        };
        ActivitySource.AddActivityListener(_activities);
    }

    public string Text => string.Join("\n", _text);

    public int MeasurementCount { get; private set; }

    public void Dispose()
    {
        _meters.Dispose();
        _activities.Dispose();
    }

    private void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        MeasurementCount++;
        var line = $"metric {instrument.Meter.Name}/{instrument.Name}={value}";
        foreach (var tag in tags)
        {
            line += $" {tag.Key}={tag.Value}";
        }

        _text.Enqueue(line);
    }
}
