namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Whether the shared token store answers, for the whole container: a warning when it stops (once per outage, not
/// per call), an information line when it answers again, and every failed call counted in a metric. Never throws.
/// </summary>
internal sealed class SharedStoreStatus
{
    private readonly TokenTelemetry _telemetry;
    private int _down;

    public SharedStoreStatus(TokenTelemetry telemetry)
    {
        _telemetry = telemetry;
    }

    /// <summary>Whether the last call failed: for tests and the health check.</summary>
    public bool IsDown => Volatile.Read(ref _down) == 1;

    public void Failed(Exception error)
    {
        _telemetry.SharedStoreError(error);
        if (Interlocked.Exchange(ref _down, 1) == 0)
        {
            _telemetry.SharedStoreUnavailable(error);
        }
    }

    public void Answered()
    {
        if (Volatile.Read(ref _down) == 1 && Interlocked.Exchange(ref _down, 0) == 1)
        {
            _telemetry.SharedStoreAvailable();
        }
    }

    public void Unreadable(TokenRequestSettings settings) => _telemetry.SharedValueUnreadable(settings);

    public void WaitGaveUp(TokenRequestSettings settings, TimeSpan waited) => _telemetry.SharedWaitGaveUp(settings, waited);
}
