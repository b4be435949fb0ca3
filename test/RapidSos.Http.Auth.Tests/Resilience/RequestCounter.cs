namespace RapidSos.Http.Auth.Tests.Resilience;

/// <summary>
/// Counts the requests that pass a <see cref="CountingHandler"/> and how many are still on their way. Shared by
/// every handler instance the factory builds for one position, so a rebuilt handler chain keeps counting.
/// </summary>
internal sealed class RequestCounter
{
    private int _calls;
    private int _inFlight;

    public int Calls => Volatile.Read(ref _calls);

    public int InFlight => Volatile.Read(ref _inFlight);

    public void Started()
    {
        Interlocked.Increment(ref _calls);
        Interlocked.Increment(ref _inFlight);
    }

    public void Ended() => Interlocked.Decrement(ref _inFlight);
}
