using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Internal;

public sealed class RapidSosAuthMetricsTests
{
    [Test]
    public void TokenRequestDuration_AdvisesBucketsForSecondsNotTheDefaultsOfMilliseconds()
    {
        using var metrics = new RapidSosAuthMetrics(meterFactory: null);

#if NET9_0_OR_GREATER
        Assert.That(metrics.TokenRequestDuration.Advice?.HistogramBucketBoundaries, Is.EqualTo(RapidSosAuthMetrics.DurationBuckets));
        Assert.That(RapidSosAuthMetrics.DurationBuckets, Is.Ordered.And.Contains(0.05).And.Contains(1.0), "tens of milliseconds to seconds");
#else
        Assert.That(metrics.TokenRequestDuration.Unit, Is.EqualTo("s"), "no advice API before .NET 9: the unit is all a listener gets");
#endif
    }
}
