using System.Globalization;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.SoakTests;

/// <summary>
/// Counts, on the emulator's side, how many times each call's POST body reached the API and whether it arrived
/// byte for byte as the worker built it. Installed as the emulator's <see cref="RapidSosGatewayEmulator.ApiFaultRule"/>,
/// which sees every API request before its token is checked (so a request answered 401 counts too) and never injects
/// anything. One slot per worker, since a worker has one call in flight: fixed memory however long the run.
/// </summary>
internal sealed class EchoLedger
{
    /// <summary>The request header naming the call: <c>worker.sequence</c>.</summary>
    public const string CallHeader = "X-Soak-Call";

    private readonly Slot[] _slots;
    private long _arrivals;
    private long _corrupted;
    private long _stray;

    public EchoLedger(int workers)
    {
        _slots = new Slot[workers];
        for (var i = 0; i < workers; i++)
        {
            _slots[i] = new Slot();
        }
    }

    /// <summary>Every API request seen.</summary>
    public long Arrivals => Interlocked.Read(ref _arrivals);

    /// <summary>Bodies that differed from what the worker sent.</summary>
    public long Corrupted => Interlocked.Read(ref _corrupted);

    /// <summary>Requests that named no call in flight: a duplicate sent after its call ended, or no call header at all.</summary>
    public long Stray => Interlocked.Read(ref _stray);

    public static string HeaderValue(int worker, long sequence) =>
        string.Create(CultureInfo.InvariantCulture, $"{worker}.{sequence}");

    public void Begin(int worker, long sequence, byte[] body)
    {
        var slot = _slots[worker];
        Volatile.Write(ref slot.Expected, body);
        Volatile.Write(ref slot.Arrivals, 0);
        Volatile.Write(ref slot.Corrupted, 0);
        Volatile.Write(ref slot.Sequence, sequence);
    }

    /// <summary>Closes the call; returns how many times its body arrived, and how many of those arrived damaged.</summary>
    public (int Arrivals, int Corrupted) End(int worker)
    {
        var slot = _slots[worker];
        Volatile.Write(ref slot.Sequence, -1);
        return (Volatile.Read(ref slot.Arrivals), Volatile.Read(ref slot.Corrupted));
    }

    public EmulatorFault? Observe(EmulatorRequest request)
    {
        Interlocked.Increment(ref _arrivals);
        if (!TryParse(request.Headers.GetValueOrDefault(CallHeader), out var worker, out var sequence)
            || worker >= _slots.Length
            || Volatile.Read(ref _slots[worker].Sequence) != sequence)
        {
            Interlocked.Increment(ref _stray);
            return null;
        }

        var slot = _slots[worker];
        Interlocked.Increment(ref slot.Arrivals);
        if (!request.Body.Span.SequenceEqual(Volatile.Read(ref slot.Expected)))
        {
            Interlocked.Increment(ref slot.Corrupted);
            Interlocked.Increment(ref _corrupted);
        }

        return null;
    }

    private static bool TryParse(string? value, out int worker, out long sequence)
    {
        worker = -1;
        sequence = -1;
        var dot = value?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        return dot > 0
            && int.TryParse(value.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out worker)
            && long.TryParse(value.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
    }

    private sealed class Slot
    {
        public byte[] Expected = [];
        public long Sequence = -1;
        public int Arrivals;
        public int Corrupted;
    }
}
