namespace RapidSos.Http.Auth.SoakTests;

/// <summary>
/// Call latencies in logarithmic buckets 1 % wide, from 1 µs to a few minutes: a fixed 15 KB however long the run,
/// so recording latencies does not itself make memory grow. Not thread-safe: one per worker, merged at the end.
/// </summary>
internal sealed class LatencyHistogram
{
    private const double Growth = 1.01;
    private static readonly double s_logGrowth = Math.Log(Growth);
    private static readonly int s_bucketCount = BucketOf(TimeSpan.FromMinutes(5).TotalMicroseconds) + 2;

    private readonly long[] _counts = new long[s_bucketCount];
    private TimeSpan _max;

    public long Count { get; private set; }

    public TimeSpan Max => _max;

    public void Record(TimeSpan latency)
    {
        _counts[Math.Min(BucketOf(latency.TotalMicroseconds), s_bucketCount - 1)]++;
        Count++;
        if (latency > _max)
        {
            _max = latency;
        }
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        if (other._max > _max)
        {
            _max = other._max;
        }
    }

    /// <summary>The latency below which <paramref name="percentile"/> % of calls finished (the bucket's upper edge, at most <see cref="Max"/>).</summary>
    public TimeSpan Percentile(double percentile)
    {
        if (Count == 0)
        {
            return TimeSpan.Zero;
        }

        var rank = (long)Math.Ceiling(Count * percentile / 100.0);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                var upper = TimeSpan.FromMicroseconds(Math.Pow(Growth, i + 1));
                return upper < _max ? upper : _max;
            }
        }

        return _max;
    }

    private static int BucketOf(double microseconds) =>
        microseconds <= 1 ? 0 : (int)(Math.Log(microseconds) / s_logGrowth);
}
