using System.Diagnostics;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>Per-caller latencies in milliseconds and their nearest-rank percentiles.</summary>
internal sealed class Latencies
{
    private readonly double[] _sorted;

    public Latencies(IEnumerable<double> milliseconds)
    {
        _sorted = [.. milliseconds];
        Array.Sort(_sorted);
    }

    public int Count => _sorted.Length;

    public double Max => _sorted.Length == 0 ? 0 : _sorted[^1];

    public double Min => _sorted.Length == 0 ? 0 : _sorted[0];

    public static double Milliseconds(long startTimestamp, long endTimestamp) =>
        Stopwatch.GetElapsedTime(startTimestamp, endTimestamp).TotalMilliseconds;

    public double Percentile(double p)
    {
        if (_sorted.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(p / 100 * _sorted.Length);
        return _sorted[Math.Clamp(rank - 1, 0, _sorted.Length - 1)];
    }

    public int CountAtLeast(double milliseconds) => _sorted.Length - LowerBound(milliseconds);

    private int LowerBound(double value)
    {
        var index = Array.BinarySearch(_sorted, value);
        if (index < 0)
        {
            return ~index;
        }

        while (index > 0 && _sorted[index - 1] >= value)
        {
            index--;
        }

        return index;
    }
}
