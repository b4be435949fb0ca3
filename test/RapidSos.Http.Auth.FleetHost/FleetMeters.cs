using System.Diagnostics.Metrics;

namespace RapidSos.Http.Auth.FleetHost;

/// <summary>
/// The library's own counters for this process (meter <c>RapidSos.Http.Auth</c>): token requests sent, tokens taken
/// from the fleet, shared store errors and 401 resends. Read through a <see cref="MeterListener"/>, as an
/// application's telemetry would read them.
/// </summary>
internal sealed class FleetMeters : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _tokenRequests;
    private long _failedTokenRequests;
    private long _sharedTokens;
    private long _sharedStoreErrors;
    private long _unauthorizedRetries;

    public FleetMeters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RapidSosAuthDefaults.MeterName
                && instrument.Name is "rapidsos.auth.token_requests" or "rapidsos.auth.shared_tokens" or "rapidsos.auth.shared_store.errors" or "rapidsos.auth.unauthorized_retries")
            {
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (instrument, value, tags, state) => ((FleetMeters)state!).Record(instrument.Name, value, tags));
        _listener.Start();
    }

    public long TokenRequests => Interlocked.Read(ref _tokenRequests);

    public long FailedTokenRequests => Interlocked.Read(ref _failedTokenRequests);

    public long SharedTokens => Interlocked.Read(ref _sharedTokens);

    public long SharedStoreErrors => Interlocked.Read(ref _sharedStoreErrors);

    public long UnauthorizedRetries => Interlocked.Read(ref _unauthorizedRetries);

    public void Dispose() => _listener.Dispose();

    private void Record(string instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        switch (instrument)
        {
            case "rapidsos.auth.token_requests":
                Interlocked.Add(ref _tokenRequests, value);
                foreach (var tag in tags)
                {
                    if (tag is { Key: "rapidsos.outcome", Value: "failure" })
                    {
                        Interlocked.Add(ref _failedTokenRequests, value);
                    }
                }

                break;
            case "rapidsos.auth.shared_tokens":
                Interlocked.Add(ref _sharedTokens, value);
                break;
            case "rapidsos.auth.shared_store.errors":
                Interlocked.Add(ref _sharedStoreErrors, value);
                break;
            default:
                Interlocked.Add(ref _unauthorizedRetries, value);
                break;
        }
    }
}
